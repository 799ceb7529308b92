/**
 * Where the Slurm commands run: this machine, or a login node over SSH (BOSCO style). Either way
 * the adapter hands over one POSIX shell script on stdin and reads its output, so a whole batch
 * (folders, files, sbatch calls) costs one round trip, and credentials travel on stdin, never on
 * a command line.
 */
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { SshSettings } from "./settings.js";
import { UpdraftError } from "../../../common/errors.js";

/**
 * A Slurm command, or the script the adapter runs where they are, could not run, did not answer
 * in time, or failed; the message names the host, the exit status and its stderr.
 */
export class SlurmCommandError extends UpdraftError {
  readonly code = "slurm-command";
  override name = "SlurmCommandError";
}

export interface ShellResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface SlurmHost {
  /** Where the commands run, for messages: `local` or `ssh root@127.0.0.1:2222`. */
  readonly where: string;
  /** Run a POSIX shell script; rejects only when the script could not be run at all. */
  run(script: string): Promise<ShellResult>;
  close(): Promise<void>;
}

/** Spawn a command, feed it stdin, collect its output; kill it after `timeoutMs`. */
function exec(
  cmd: string,
  args: readonly string[],
  stdin: string,
  timeoutMs: number,
): Promise<ShellResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ["pipe", "pipe", "pipe"] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, timeoutMs);
    child.stdout.on("data", (b: Buffer) => out.push(b));
    child.stderr.on("data", (b: Buffer) => err.push(b));
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(new SlurmCommandError(`cannot run ${cmd}: ${e.message}`));
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      if (timedOut) {
        reject(new SlurmCommandError(`${cmd} did not answer within ${timeoutMs / 1000} s`));
        return;
      }
      resolve({
        code: code ?? 128 + (signal ? 9 : 0),
        stdout: Buffer.concat(out).toString("utf8"),
        stderr: Buffer.concat(err).toString("utf8"),
      });
    });
    child.stdin.on("error", () => undefined); // a script that exits early closes stdin
    child.stdin.end(stdin);
  });
}

export function createLocalHost(timeoutMs: number): SlurmHost {
  return {
    where: "local",
    run: (script) => exec("/bin/sh", ["-s"], script, timeoutMs),
    close: async () => undefined,
  };
}

/** Longest Unix socket path is 107 bytes; ssh's %C expands to 40 hex digits. */
const MAX_SOCKET = 100;

/** The multiplexing socket: in the state dir when its path is short enough, else in /tmp. */
export function controlPath(stateDir: string): string {
  const inState = join(stateDir, "ssh-%C");
  // ssh splits its options at whitespace: a path with a space cannot be given.
  if (inState.length - 2 + 40 <= MAX_SOCKET && !/\s/.test(inState)) return inState;
  const tag = createHash("sha256").update(stateDir).digest("hex").slice(0, 12);
  return join(tmpdir(), `updraft-ssh-${tag}-%C`);
}

export function sshArgs(s: SshSettings, ctlPath: string): string[] {
  const args = [
    "-o",
    "BatchMode=yes",
    "-o",
    "ControlMaster=auto",
    "-o",
    `ControlPath=${ctlPath}`,
    "-o",
    "ControlPersist=60",
    "-o",
    `ConnectTimeout=${Math.ceil(Math.min(s.timeout_s, 30))}`,
    "-o",
    "ServerAliveInterval=15",
    "-i",
    s.identity_file,
    "-p",
    String(s.port),
  ];
  if (s.known_hosts_file) {
    args.push("-o", `UserKnownHostsFile=${s.known_hosts_file}`, "-o", "StrictHostKeyChecking=yes");
  }
  return args;
}

export function createSshHost(s: SshSettings, stateDir: string): SlurmHost {
  const base = [...sshArgs(s, controlPath(stateDir)), `${s.user}@${s.host}`];
  const timeoutMs = s.timeout_s * 1000;
  return {
    where: `ssh ${s.user}@${s.host}:${s.port}`,
    run: (script) => exec("ssh", [...base, "/bin/sh -s"], script, timeoutMs),
    async close() {
      // Stop the multiplexing master now rather than leave it for ControlPersist.
      await exec("ssh", [...base.slice(0, -1), "-O", "exit", base.at(-1)!], "", 10_000).catch(
        () => undefined,
      );
    },
  };
}
