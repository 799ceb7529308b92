/**
 * How the pilot starts its jobs: in a job launcher process of its own (launcher-process.ts), so
 * the fork of a large process never blocks the pilot's loop, or in the pilot itself when no
 * launcher can run. Both report the same events for a job: started (its pid and group), failed
 * to start (stage and errno), exited (code or signal), or lost with the launcher.
 *
 * A launcher that dies takes its children's exit statuses with it. Its jobs are then killed with
 * their groups (a job it had started but not yet reported is found by its working directory,
 * the job's sandbox) and reported lost, which the runner hands back to the queue: never lost,
 * never run twice. A new launcher takes the jobs after them. While no launcher is ready (the
 * first is starting, about as long as a Node start, or one is restarting) jobs start in the pilot
 * itself, so the first job does not wait; one that cannot start, or dies too often, leaves the
 * pilot starting every job itself, with a log line saying so.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Logger } from "../../common/logger.js";
import {
  asFromLauncher,
  encodeFrame,
  type FromLauncher,
  FrameDecoder,
  type LaunchRequest,
  MAX_ANSWER_BYTES,
  type StartStage,
  type ToLauncher,
} from "./launch-protocol.js";
import { signalGroup, errnoOf, startPrepared } from "./job-start.js";

export type LaunchEvent =
  | { kind: "started"; pid: number }
  | { kind: "failed"; stage: StartStage; errno: number; message: string }
  | { kind: "exited"; code: number | null; signal: string | null }
  /** The launcher died; the job was killed with its group and never reports again. */
  | { kind: "lost"; reason: string };

export interface LaunchedJob {
  /** Signals the job's process group while it runs; nothing once it has exited. */
  signal(sig: "SIGTERM" | "SIGKILL"): void;
}

export interface JobLauncher {
  /** Starts a job; `on` hears its events in order, the first perhaps before this returns. */
  launch(req: LaunchRequest, on: (e: LaunchEvent) => void): LaunchedJob;
  /** Ends the launcher (its jobs, if any are left, are killed with it). */
  close(): Promise<void>;
}

/** Starts jobs in this process: the fork blocks the caller's loop while the child execs. */
export const inProcessLauncher: JobLauncher = {
  launch(req, on) {
    const r = startPrepared(req);
    if (!r.ok) {
      on({ kind: "failed", stage: r.stage, errno: r.errno, message: r.message });
      return { signal() {} };
    }
    let pid = r.child.pid;
    r.child.once("error", (e) =>
      on({ kind: "failed", stage: "exec", errno: errnoOf(e), message: e.message }),
    );
    if (pid !== undefined) on({ kind: "started", pid });
    r.child.once("exit", (code, signal) => {
      // Stragglers left in the group after the leader exits are not the job's business any more.
      if (pid !== undefined) signalGroup(pid, "SIGKILL");
      pid = undefined;
      on({ kind: "exited", code, signal });
    });
    return {
      signal(sig) {
        if (pid !== undefined) signalGroup(pid, sig);
      },
    };
  },
  close: () => Promise.resolve(),
};

/** How long a launcher told to end may take before it is killed. */
const CLOSE_GRACE_MS = 5000;

/** The launcher's program, beside this file in the build. */
export const LAUNCHER_SCRIPT = fileURLToPath(new URL("./launcher-process.js", import.meta.url));

export interface ProcessLauncher extends JobLauncher {
  /** True once a launcher process is ready; false if the pilot starts its jobs itself for good. */
  ready(): Promise<boolean>;
}

export interface ProcessLauncherOptions {
  log?: Logger;
  /** Launchers started after the first died, before the pilot starts its jobs itself. */
  maxRestarts?: number;
  /** The command that runs the launcher; Node with LAUNCHER_SCRIPT by default. */
  command?: readonly string[];
}

interface Refable {
  ref(): void;
  unref(): void;
}

interface Job {
  req: LaunchRequest;
  on: (e: LaunchEvent) => void;
  /** Its start request went to a launcher (which may have started it). */
  sent: boolean;
  pid?: number;
  /** Started in this process, no launcher being ready. */
  local?: LaunchedJob;
}

/**
 * A launcher process, started now; jobs asked for while none is ready start in this process.
 * Its CPU is the pilot's: it is the pilot's child.
 */
export function createProcessLauncher(opts: ProcessLauncherOptions = {}): ProcessLauncher {
  const maxRestarts = opts.maxRestarts ?? 3;
  const jobs = new Map<number, Job>();
  const waiters: ((ready: boolean) => void)[] = [];
  const tellWaiters = (ok: boolean) => {
    for (const w of waiters.splice(0)) w(ok);
    hold();
  };
  let proc: ChildProcess | undefined;
  let ready = false;
  let givenUp = false;
  let closing = false;
  let restarts = 0;
  let nextId = 0;
  let closed: Promise<void> = Promise.resolve();

  function start(): void {
    ready = false;
    const [cmd, ...args] = opts.command ?? [process.execPath, LAUNCHER_SCRIPT];
    // Its own small heap; none of the pilot's Node options (a profiler, a larger heap).
    const child = spawn(cmd!, args, { stdio: ["pipe", "pipe", "inherit"], env: {} });
    proc = child;
    closed = new Promise((resolve) => {
      let over = false;
      const gone = (why: string) => {
        if (over) return;
        over = true;
        died(child, why);
        resolve();
      };
      // `close` comes after the last of its stdout is read: every answer it wrote is handled.
      child.once("close", (code, signal) => gone(signal ? `killed by ${signal}` : `exit ${code}`));
      child.once("error", (e) => gone(`cannot start: ${e.message}`));
    });
    const decoder = new FrameDecoder(MAX_ANSWER_BYTES);
    child.stdout!.on("data", (chunk: Buffer) => {
      const d = decoder.push(chunk);
      if (d.ok) for (const m of d.messages) answer(child, m);
      else {
        opts.log?.warn({ why: d.reason }, "the job launcher's answer cannot be read; ending it");
        child.kill("SIGKILL");
      }
    });
    // A write to a launcher that just died fails; its death is handled at `close`.
    child.stdin!.on("error", () => {});
    (child.stdin as unknown as Refable).unref();
    hold();
  }

  /** The launcher keeps this process alive while it has jobs to answer for, and only then. */
  function hold(): void {
    // Its answers and its exit (a death is noticed by it) both have to reach this process.
    for (const handle of [proc, proc?.stdout as unknown as Refable | undefined]) {
      if (jobs.size > 0 || waiters.length > 0) handle?.ref();
      else handle?.unref();
    }
  }

  function answer(child: ChildProcess, raw: unknown): void {
    if (child !== proc) return;
    const m: FromLauncher | undefined = asFromLauncher(raw);
    if (!m) {
      opts.log?.warn("the job launcher sent a message it should not; ending it");
      child.kill("SIGKILL");
      return;
    }
    if (m.t === "ready") {
      ready = true;
      tellWaiters(true);
      return;
    }
    const job = jobs.get(m.id);
    if (!job) return;
    if (m.t === "started") {
      job.pid = m.pid;
      job.on({ kind: "started", pid: m.pid });
      return;
    }
    jobs.delete(m.id);
    hold();
    if (m.t === "failed") {
      job.on({ kind: "failed", stage: m.stage, errno: m.errno, message: m.message });
    } else job.on({ kind: "exited", code: m.code, signal: m.signal });
  }

  /** To the launcher if one is ready and the job is its; otherwise carried out here. */
  function send(f: ToLauncher): void {
    const job = jobs.get(f.id);
    if (!job) return;
    if (f.t === "signal" && !job.sent) return job.local?.signal(f.sig);
    if (f.t === "start" && (!ready || !proc)) {
      job.local = inProcessLauncher.launch(job.req, (e) => {
        if (e.kind !== "started") jobs.delete(f.id);
        hold();
        job.on(e);
      });
      return;
    }
    if (f.t === "start") job.sent = true;
    proc?.stdin!.write(encodeFrame(f));
  }

  function died(child: ChildProcess, why: string): void {
    if (child !== proc) return;
    proc = undefined;
    const wasReady = ready;
    ready = false;
    const reason = `the job launcher died (${why})`;
    let lost = 0;
    for (const [id, job] of jobs) {
      if (!job.sent || job.local) continue;
      // Its exit status went with the launcher: it must not run on unwatched, nor twice.
      if (job.pid !== undefined) signalGroup(job.pid, "SIGKILL");
      else killBySandbox(job.req.cwd);
      jobs.delete(id);
      lost++;
      job.on({ kind: "lost", reason });
    }
    if (closing) return;
    opts.log?.warn({ why, jobs: lost }, "the job launcher died; its jobs go back to the queue");
    if (!wasReady || restarts >= maxRestarts) {
      givenUp = true;
      opts.log?.warn(
        { why, restarts },
        "no job launcher: jobs start in the pilot itself, which blocks its loop at each start",
      );
      tellWaiters(false);
      return;
    }
    restarts++;
    start();
  }

  start();
  return {
    ready() {
      if (ready || givenUp || closing) return Promise.resolve(ready);
      return new Promise((r) => {
        waiters.push(r);
        hold();
      });
    },
    launch(req, on) {
      const id = ++nextId;
      jobs.set(id, { req, on, sent: false });
      hold();
      send({ t: "start", id, req });
      return { signal: (sig) => jobs.has(id) && send({ t: "signal", id, sig }) };
    },
    async close() {
      closing = true;
      // Its exit is awaited, and this timer keeps this process alive until then (a ref'd
      // child handle alone did not, after a restart); a launcher that does not end is killed.
      proc?.ref();
      (proc?.stdout as unknown as Refable | undefined)?.ref();
      const child = proc;
      const backstop = setTimeout(() => child?.kill("SIGKILL"), CLOSE_GRACE_MS);
      proc?.stdin!.end();
      await closed;
      clearTimeout(backstop);
      tellWaiters(false);
    },
  };
}

/**
 * Kills the process group of any process working in `dir`: a job the launcher started but died
 * before naming. Only on a launcher's death, so the walk over /proc costs nothing per job.
 */
function killBySandbox(dir: string): void {
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    return;
  }
  const own = pgrpOf("self");
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    try {
      if (readlinkSync(`/proc/${e}/cwd`) !== dir) continue;
    } catch {
      continue;
    }
    const pgrp = pgrpOf(e);
    if (pgrp !== undefined && pgrp > 1 && pgrp !== own) signalGroup(pgrp, "SIGKILL");
  }
}

function pgrpOf(pid: string): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
    // After the command name: state ppid pgrp.
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[2]);
  } catch {
    return undefined;
  }
}
