/**
 * The on-disk layout of one local pilot and how its state is read back from it. Everything the
 * adapter knows lives in these files, so a new adapter instance (after a factory restart) sees
 * exactly what the old one saw.
 *
 *   spec.json   what to run (written before the submit returns)
 *   starting    time the adapter began to start it (before spawn)
 *   pid         the wrapper's pid = the process group id (written by the wrapper itself)
 *   exit_code   the command's exit status (written by the wrapper when the command ends)
 *   held.json   a hold the adapter put on it, with its reason
 *   removed     time it was removed
 *   walltime    the pilot ran past its walltime: when it was signalled, and with which signal
 *   credential  this pilot's copy of its credential (the pilot removes it once read)
 *   stdout, stderr
 */
import { existsSync, readFileSync, readdirSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { readBounded } from "../../../common/bounded-read.js";
import { pilotEnded } from "../exit-status.js";
import type { PilotSpec, PilotStatus } from "../types.js";

export interface StoredSpec extends PilotSpec {
  handle: string;
  submittedAt: number;
  /** Submission order within the same millisecond. */
  seq: number;
}

export const FILES = {
  spec: "spec.json",
  starting: "starting",
  pid: "pid",
  exitCode: "exit_code",
  held: "held.json",
  removed: "removed",
  walltime: "walltime",
  stdout: "stdout",
  stderr: "stderr",
  jobGroups: "job-groups",
  credential: "credential",
} as const;

/**
 * Ends the process groups of the jobs a pilot listed (see the pilot's UPDRAFT_JOB_GROUPS_FILE):
 * a job runs in its own group, so killing the pilot's group alone would leave it running, as a
 * batch system's cgroup would not. Returns how many groups were still there.
 */
export function killJobGroups(dir: string, signal: NodeJS.Signals): number {
  const text = read(dir, FILES.jobGroups);
  if (!text) return 0;
  let alive = 0;
  for (const line of text.split("\n")) {
    const pgid = Number(line);
    if (!Number.isInteger(pgid) || pgid <= 1) continue;
    try {
      process.kill(-pgid, signal);
      alive++;
    } catch {
      // Already gone.
    }
  }
  if (alive === 0) writeAtomic(join(dir, FILES.jobGroups), "");
  return alive;
}

/** A spawn that left no pid for this long did not happen. */
export const START_TIMEOUT_MS = 30_000;

export function writeAtomic(file: string, text: string, mode = 0o644): void {
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, text, { mode });
  renameSync(tmp, file);
}

/** More than any of a pilot's small files holds; the pilot (and its jobs) can write some of them. */
export const MAX_PILOT_FILE_BYTES = 1024 * 1024;

/**
 * One of a pilot's small files (FILES), or undefined when it is not there or is larger than
 * MAX_PILOT_FILE_BYTES: the pilot writes its job groups file, so its size is not ours to trust.
 */
export function read(dir: string, name: string): string | undefined {
  try {
    return readBounded(join(dir, name), MAX_PILOT_FILE_BYTES)?.toString("utf8");
  } catch {
    return undefined;
  }
}

/** A pilot's JSON file, or undefined when it is not there or torn. */
function readJson<T>(dir: string, name: string): T | undefined {
  const text = read(dir, name);
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as T;
  } catch {
    return undefined;
  }
}

export const readSpec = (dir: string) => readJson<StoredSpec>(dir, FILES.spec);

export interface WalltimeKill {
  /** When the pilot was last signalled for running past its walltime. */
  at: number;
  signal: "SIGTERM" | "SIGKILL";
}

const SIGNALS = { SIGTERM: 15, SIGKILL: 9 } as const;

/** Ended at its walltime, as a batch system's TIMEOUT: never success, the signal's status. */
const timeLimitEnd = (handle: string, k: WalltimeKill): PilotStatus => ({
  handle,
  state: "Finished",
  exitCode: 128 + SIGNALS[k.signal],
});

export const readWalltime = (dir: string) => readJson<WalltimeKill>(dir, FILES.walltime);

/** A process (or, for a negative pid, a process group) exists. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else; still alive.
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * A process group has a member that is not a zombie. Orphaned members that die are reaped by
 * init, which in some containers never happens: kill(2) alone would count them alive forever.
 * Only called for groups that were signalled to end, so the /proc scan is rare.
 */
export function groupAlive(pgid: number, proc = "/proc"): boolean {
  if (!alive(-pgid)) return false;
  let pids: string[];
  try {
    pids = readdirSync(proc).filter((n) => /^\d+$/.test(n));
  } catch {
    return true; // No /proc: trust kill(2).
  }
  for (const pid of pids) {
    let stat: string;
    try {
      stat = readFileSync(join(proc, pid, "stat"), "utf8");
    } catch {
      continue; // Gone meanwhile.
    }
    // "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses; split after it.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (Number(fields[2]) === pgid && fields[0] !== "Z") return true;
  }
  return false;
}

export function readPid(dir: string): number | undefined {
  const pid = Number.parseInt(read(dir, FILES.pid) ?? "", 10);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/** The pilot's state from its files alone. `starting` counts as running for the slot limit. */
export function readStatus(dir: string, handle: string, now: number): PilotStatus {
  if (existsSync(join(dir, FILES.removed))) {
    // Like a batch job being cancelled: it holds its slot until its processes are gone.
    const pid = readPid(dir);
    const dying = pid !== undefined && groupAlive(pid);
    return { handle, state: dying ? "Running" : "Removed" };
  }
  const held = read(dir, FILES.held);
  if (held !== undefined) {
    const h = JSON.parse(held) as { reason: string; recoverable: boolean };
    return { handle, state: "Held", holdReason: h.reason, holdRecoverable: h.recoverable };
  }
  const exit = read(dir, FILES.exitCode);
  if (exit !== undefined) {
    const code = Number.parseInt(exit, 10);
    // Ended at its walltime: a time-limit end never reads as success, whatever it exited with.
    const overrun = code === 0 ? readWalltime(dir) : undefined;
    if (overrun) return timeLimitEnd(handle, overrun);
    return pilotEnded(handle, code);
  }
  const pid = readPid(dir);
  if (pid !== undefined) {
    if (alive(pid)) return { handle, state: "Running" };
    // Killed at its walltime before the wrapper could record a status: finished once the whole
    // group is gone.
    const overrun = readWalltime(dir);
    if (overrun)
      return groupAlive(pid) ? { handle, state: "Running" } : timeLimitEnd(handle, overrun);
    return {
      handle,
      state: "Held",
      holdReason: "the pilot process ended without an exit status",
      holdRecoverable: true,
    };
  }
  const starting = read(dir, FILES.starting);
  if (starting !== undefined) {
    if (now - Number(starting) < START_TIMEOUT_MS) return { handle, state: "Running" };
    return {
      handle,
      state: "Held",
      holdReason: "the pilot start was interrupted",
      holdRecoverable: true,
    };
  }
  if (existsSync(join(dir, FILES.spec))) return { handle, state: "Idle" };
  return { handle, state: "Unknown" };
}
