/**
 * Job isolation with Linux namespaces. A job runs as the pilot's Unix user; on its own it could
 * read the pilot's /proc entries (environment, memory) and the pilot's directories. Isolated,
 * each job starts in new user, mount and pid namespaces:
 *
 * - a fresh /proc that shows only the job's own processes, so no pilot pid can be named;
 * - the pilot's directories covered by empty tmpfs mounts, the job's sandbox bound back at its
 *   own path (so `_CONDOR_SCRATCH_DIR` and paths in the job ad stay true);
 * - no capability over that mount namespace, so the job cannot unmount what covers the pilot.
 *
 * Two tools do it: bubblewrap (`bwrap`, one small process; preferred) and util-linux `unshare`
 * (on every Linux, but a setup shell and `mount` per job cost several times more CPU; see
 * `npm run bench -- isolation`). With `unshare` a second, inner user namespace mapped back to the
 * pilot's uid drops the capabilities; `bwrap` drops them itself (`--cap-drop ALL`, needed when
 * the pilot runs as root).
 *
 * The job is not pid 1 of its namespace (bwrap's init or the setup shell is): pid 1 ignores
 * signals it has no handler for, and the runner's SIGTERM to the job's process group must stop a
 * job as it does without isolation. Both report a job killed by signal N as exit status 128+N,
 * the shell's convention; the runner turns that back into the signal.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readlinkSync, rmSync } from "node:fs";
import { join, resolve, sep } from "node:path";

/** The slot attribute that says which isolation its jobs get. */
export const ISOLATION_ATTR = "JobIsolation";

export type JobIsolation =
  | {
      kind: "namespaces";
      tool: "bwrap" | "unshare";
      /** The program to run: `bwrap` or `unshare`, found on PATH. */
      program: string;
      hide: string[];
      uid: number;
      gid: number;
    }
  | { kind: "none"; reason: string };

/** What `--job-isolation` asks for: use namespaces when the kernel allows, never, or always. */
export type IsolationMode = "auto" | "none" | "required";

/**
 * Runs as pid 1 of the job's namespaces, with the outer user namespace's capabilities.
 * Arguments: sandbox uid gid hide-dir... -- command args...
 */
const SETUP = [
  "set -e",
  'sb=$1 u=$2 g=$3; shift 3; cd "$sb"',
  'while [ "$1" != -- ]; do mount -t tmpfs -o mode=0755,size=64k updraft-hidden "$1"; shift; done',
  "shift",
  // The working directory still reaches the covered sandbox: bind it back at its own path
  // (uncanonicalized: "." resolved to a path string would name the new, empty directory).
  'mkdir -p "$sb"; mount --no-canonicalize --bind . "$sb"; cd "$sb"',
  "set +e",
  'unshare --user --map-user="$u" --map-group="$g" -- "$@"',
].join("\n");

/**
 * Directories to cover, outermost first. One inside another is covered already; the root, the
 * sandbox and anything inside the sandbox are never covered.
 */
export function coverList(hide: readonly string[], sandbox: string): string[] {
  const sb = resolve(sandbox);
  const inside = (d: string, parent: string) => d === parent || d.startsWith(parent + sep);
  const dirs = [...new Set(hide.map((d) => resolve(d)))].sort((x, y) => x.length - y.length);
  const out: string[] = [];
  for (const d of dirs) {
    if (d === sep || inside(d, sb) || out.some((p) => inside(d, p))) continue;
    out.push(d);
  }
  return out;
}

/** The command that runs `executable args` isolated in `sandbox`. */
export function isolatedCommand(
  iso: Extract<JobIsolation, { kind: "namespaces" }>,
  sandbox: string,
  executable: string,
  args: readonly string[],
): { command: string; args: string[] } {
  const cover = coverList(iso.hide, sandbox);
  if (iso.tool === "bwrap") {
    return {
      command: iso.program,
      args: [
        ...["--unshare-user", "--unshare-pid", "--cap-drop", "ALL", "--die-with-parent"],
        ...["--dev-bind", "/", "/"],
        ...cover.flatMap((d) => ["--tmpfs", d]),
        ...["--bind", sandbox, sandbox, "--proc", "/proc", "--chdir", sandbox],
        "--",
        executable,
        ...args,
      ],
    };
  }
  return {
    command: iso.program,
    args: [
      ...["--user", "--map-root-user", "--mount", "--pid", "--fork", "--mount-proc"],
      ...["--kill-child", "--", "/bin/sh", "-c", SETUP, "updraft-job"],
      ...[sandbox, String(iso.uid), String(iso.gid), ...cover, "--", executable, ...args],
    ],
  };
}

/**
 * Tries the whole isolation once per tool, bwrap first, in a scratch sandbox under `workDir`: a
 * job that checks its uid, that it is in another pid namespace and does not see the pilot's pid,
 * that `workDir`'s contents are covered and that it can write its sandbox. The first tool that
 * passes is used; otherwise jobs run without isolation and the reason names what failed. The
 * probe job runs asynchronously, so a pilot's connections open while it runs.
 */
export async function detectIsolation(
  workDir: string,
  hide: readonly string[],
  mode: IsolationMode,
  tools: readonly ("bwrap" | "unshare")[] = ["bwrap", "unshare"],
): Promise<JobIsolation> {
  if (mode === "none") return { kind: "none", reason: "turned off (--job-isolation none)" };
  if (process.platform !== "linux") return { kind: "none", reason: "not Linux" };
  const reasons: string[] = [];
  for (const tool of tools) {
    const r = await probe(workDir, hide, tool);
    if (typeof r !== "string") return r;
    reasons.push(`${tool}: ${r}`);
  }
  return { kind: "none", reason: `namespaces not available (${reasons.join("; ")})` };
}

/** A probe job that has not ended by then is killed and the tool taken as unusable. */
const PROBE_TIMEOUT_MS = 10_000;

/** Runs a probe job: its exit status and the end of its stderr, or why it did not run to its end. */
function runProbeJob(
  command: string,
  args: readonly string[],
  cwd: string,
  env: NodeJS.ProcessEnv,
): Promise<{ error?: string; status: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, {
      cwd,
      env,
      stdio: ["ignore", "ignore", "pipe"],
      timeout: PROBE_TIMEOUT_MS,
    });
    let stderr = "";
    child.stderr!.setEncoding("utf8").on("data", (d: string) => {
      stderr = (stderr + d).slice(-4096);
    });
    child.once("error", (e) => resolve({ error: e.message, status: null, stderr }));
    child.once("close", (status, signal) =>
      resolve(
        signal
          ? { error: `the probe job was killed (${signal})`, status, stderr }
          : { status, stderr },
      ),
    );
  });
}

/** The isolation this tool gives, or why it does not. */
async function probe(
  workDir: string,
  hide: readonly string[],
  tool: "bwrap" | "unshare",
): Promise<JobIsolation | string> {
  const candidate = {
    kind: "namespaces" as const,
    tool,
    program: tool,
    hide: [workDir, ...hide],
    uid: process.getuid?.() ?? 0,
    gid: process.getgid?.() ?? 0,
  };
  mkdirSync(workDir, { recursive: true });
  const sandbox = mkdtempSync(join(workDir, "isolation-probe-"));
  const marker = join(workDir, `.isolation-marker-${process.pid}`);
  try {
    mkdirSync(marker);
    const check = [
      `[ "$(id -u)" = ${candidate.uid} ]`,
      '[ ! -e "$UPDRAFT_MARKER" ]',
      '[ "$(readlink /proc/self/ns/pid)" != "$UPDRAFT_PID_NS" ]',
      // A pilot pid this low may be a job's pid too; then the namespace check above has to do.
      '{ [ "$UPDRAFT_PILOT_PID" -le 10 ] || [ ! -e "/proc/$UPDRAFT_PILOT_PID" ]; }',
      ": >isolation-ok",
    ].join(" && ");
    const cmd = isolatedCommand(candidate, sandbox, "/bin/sh", ["-c", check]);
    const r = await runProbeJob(cmd.command, cmd.args, sandbox, {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      UPDRAFT_MARKER: marker,
      UPDRAFT_PID_NS: readlinkSync("/proc/self/ns/pid"),
      UPDRAFT_PILOT_PID: String(process.pid),
    });
    if (r.error) return r.error;
    if (r.status !== 0) {
      return (r.stderr || "").trim().split("\n").pop() || `the probe job failed (${r.status})`;
    }
    if (!existsSync(join(sandbox, "isolation-ok"))) return "the job's own sandbox is hidden";
    return candidate;
  } finally {
    rmSync(sandbox, { recursive: true, force: true });
    rmSync(marker, { recursive: true, force: true });
  }
}

/**
 * What a job without isolation can do to the pilot's memory, from Yama's ptrace_scope (the text
 * of /proc/sys/kernel/yama/ptrace_scope, undefined when the kernel has no Yama). Node cannot make
 * itself non-dumpable (no prctl), so /proc/<pilot>/mem and attaching are governed by ptrace rules
 * alone: at scope 0 (or without Yama) any process of the pilot's user, its jobs included, may
 * attach; at 1 only the pilot's ancestors may, and a job is its descendant; 2 and 3 allow no user.
 */
export function pilotMemoryExposure(scopeText: string | undefined): {
  exposed: boolean;
  why: string;
} {
  const scope = scopeText?.trim();
  if (scope === undefined) {
    return {
      exposed: true,
      why: "the kernel has no Yama ptrace_scope: same-user ptrace is allowed",
    };
  }
  if (scope === "0")
    return { exposed: true, why: "Yama ptrace_scope is 0: same-user ptrace is allowed" };
  if (/^[123]$/.test(scope)) {
    return {
      exposed: false,
      why: `Yama ptrace_scope is ${scope}: a job cannot attach to its pilot`,
    };
  }
  return { exposed: true, why: `Yama ptrace_scope reads '${scope.slice(0, 20)}'` };
}
