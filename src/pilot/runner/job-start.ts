/**
 * The start of one job from a LaunchRequest: its folders, its standard streams, the check that
 * the program can run, and the spawn, in its own process group (the job and everything it starts
 * are signalled as one). The job launcher does this in its own small process; a pilot without
 * one does it itself. Only Node's built-in modules here: the launcher loads nothing else.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { accessSync, closeSync, constants, mkdirSync, openSync } from "node:fs";
import type { LaunchRequest, StartStage } from "./launch-protocol.js";

export type JobStart =
  | { ok: true; child: ChildProcess }
  | { ok: false; stage: StartStage; errno: number; message: string };

export const errnoOf = (e: unknown) => Math.abs((e as NodeJS.ErrnoException).errno ?? 0);

const STREAM_FLAGS =
  constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW;

/**
 * Starts the job, or says at which stage it could not. A spawn that fails in the child (no such
 * program, not executable) still returns ok: the child's `error` event says so, with the errno.
 */
export function startPrepared(req: LaunchRequest): JobStart {
  const fds: number[] = [];
  let stage: StartStage = "output";
  try {
    for (const d of req.dirs) mkdirSync(d, { recursive: true });
    stage = "input";
    const stdin = req.stdin === undefined ? "ignore" : openSync(req.stdin, "r");
    if (typeof stdin === "number") fds.push(stdin);
    stage = "output";
    // Appended to, never through a symbolic link, private to the job's user.
    const out = openSync(req.stdout, STREAM_FLAGS, 0o600);
    fds.push(out);
    const err = req.stderr === req.stdout ? out : openSync(req.stderr, STREAM_FLAGS, 0o600);
    if (err !== out) fds.push(err);
    stage = "exec";
    if (req.checkExecutable !== undefined) accessSync(req.checkExecutable, constants.X_OK);
    const child = spawn(req.command, req.args, {
      cwd: req.cwd,
      env: req.env,
      stdio: [stdin, out, err],
      detached: true,
    });
    return { ok: true, child };
  } catch (e) {
    return { ok: false, stage, errno: errnoOf(e), message: (e as Error).message };
  } finally {
    for (const fd of fds) closeSync(fd);
  }
}

/** Signals a job's whole process group; a group already gone is no error. */
export function signalGroup(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pid, sig);
  } catch {
    // group already gone
  }
}
