/**
 * Everything validation reads about the node, behind one injectable view: environment, files,
 * commands, filesystem space. Tests build a real view over controlled directories and a PATH of
 * stub commands rather than patching checks.
 */
import { execFile } from "node:child_process";
import { accessSync, constants, readdirSync, statfsSync } from "node:fs";
import { readBounded, readHead } from "../../common/bounded-read.js";
import { availableParallelism, hostname, machine } from "node:os";
import { delimiter, join } from "node:path";

/** Largest node file read whole (/proc/cpuinfo of a large node is a few hundred KiB). */
const MAX_NODE_FILE_BYTES = 4 << 20;

export interface CommandResult {
  code: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

export interface NodePaths {
  workDir: string;
  tmpDir: string;
  /** Directory holding os-release (normally /etc). */
  etcDir: string;
  procDir: string;
  /** The pilot's own cgroup directory (v2), or the v1 hierarchy root holding cpu/ and memory/. */
  cgroupDir: string | undefined;
  cvmfsRoot: string;
}

export interface NodeView {
  env: Readonly<Record<string, string | undefined>>;
  paths: NodePaths;
  host: string;
  machine: string;
  nodeCpus: number;
  readFile(path: string): string | undefined;
  listDir(path: string): string[] | undefined;
  /** Free and total bytes of the filesystem holding `path`. */
  space(path: string): { freeBytes: number; totalBytes: number } | undefined;
  isWritableDir(path: string): boolean;
  /** Full path of a command found on env.PATH. */
  which(cmd: string): string | undefined;
  run(
    file: string,
    args: string[],
    timeoutMs: number,
    extraEnv?: Record<string, string>,
    /** Kills the command (as a timeout does): a pilot that is ending waits for no script. */
    signal?: AbortSignal,
  ): Promise<CommandResult>;
}

export type NodeViewOptions = Partial<Omit<NodeView, "paths">> & { paths?: Partial<NodePaths> };

/**
 * The pilot's cgroup v2 directory from /proc/self/cgroup ("0::/path"). On a v1-only node this
 * falls back to the hierarchy root, whose limits are the node's: the batch system's variables
 * (SLURM_*) are then what narrows the allocation.
 */
function ownCgroupDir(procDir: string): string | undefined {
  try {
    const line = readHead(join(procDir, "self/cgroup"), 64 * 1024)
      .toString("utf8")
      .split("\n")
      .find((l) => l.startsWith("0::"));
    return line ? join("/sys/fs/cgroup", line.slice(3)) : "/sys/fs/cgroup";
  } catch {
    return undefined;
  }
}

export function createNodeView(options: NodeViewOptions = {}): NodeView {
  const { paths: _paths, ...opts } = options;
  const env = opts.env ?? process.env;
  const procDir = options.paths?.procDir ?? "/proc";
  const paths: NodePaths = {
    workDir: process.cwd(),
    tmpDir: "/tmp",
    etcDir: "/etc",
    procDir,
    cgroupDir: ownCgroupDir(procDir),
    cvmfsRoot: "/cvmfs",
    ...options.paths,
  };
  const view: NodeView = {
    env,
    paths,
    host: hostname(),
    machine: machine(),
    nodeCpus: availableParallelism(),
    readFile(path) {
      try {
        // /proc and /sys files, a site's os-release: small, but a path may name anything.
        return readBounded(path, MAX_NODE_FILE_BYTES)?.toString("utf8");
      } catch {
        return undefined;
      }
    },
    listDir(path) {
      try {
        return readdirSync(path);
      } catch {
        return undefined;
      }
    },
    space(path) {
      try {
        const s = statfsSync(path);
        return { freeBytes: s.bavail * s.bsize, totalBytes: s.blocks * s.bsize };
      } catch {
        return undefined;
      }
    },
    isWritableDir(path) {
      try {
        accessSync(path, constants.W_OK | constants.X_OK);
        return true;
      } catch {
        return false;
      }
    },
    which(cmd) {
      for (const dir of (env.PATH ?? "").split(delimiter)) {
        if (!dir) continue;
        const full = join(dir, cmd);
        try {
          accessSync(full, constants.X_OK);
          return full;
        } catch {
          // not here
        }
      }
      return undefined;
    },
    run(file, args, timeoutMs, extraEnv, signal) {
      return new Promise((resolve) => {
        execFile(
          file,
          args,
          {
            timeout: timeoutMs,
            env: { ...env, ...extraEnv },
            maxBuffer: 1 << 20,
            killSignal: "SIGKILL",
            ...(signal ? { signal } : {}),
          },
          (err, stdout, stderr) => {
            const e = err as (Error & { code?: unknown; killed?: boolean }) | null;
            resolve({
              code: e ? (typeof e.code === "number" ? e.code : null) : 0,
              stdout: String(stdout),
              stderr: String(stderr),
              timedOut: Boolean(e?.killed) && !signal?.aborted,
            });
          },
        );
      });
    },
    ...opts,
  };
  return view;
}
