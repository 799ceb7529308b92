/**
 * The job launcher: a small Node process, one per pilot, that starts the pilot's jobs so the
 * fork happens here and not in the pilot. Forking copies the parent's page tables while its
 * event loop waits for the child's exec; in the pilot (100 MB and more) that was most of its CPU
 * per short job and stalled its loop for milliseconds each time. This process loads nothing but
 * Node's built-ins and is a fraction of the pilot's size.
 *
 * It reads requests from stdin and answers on stdout (launch-protocol.ts): a job started (its
 * pid, which is its process group), could not start (stage and errno), or exited (code or
 * signal, after the rest of its group was killed, as the runner always did). When stdin ends the
 * pilot is gone, cleanly or killed: every job still running is killed with its group and the
 * launcher exits, so no job outlives its pilot. It ignores SIGTERM, SIGINT and SIGHUP, which a
 * batch system or the factory sends to the pilot's whole process group: stopping jobs is the
 * pilot's decision, made over the pipe.
 */
import type { ChildProcess } from "node:child_process";
import {
  asToLauncher,
  encodeFrame,
  type FromLauncher,
  FrameDecoder,
  MAX_REQUEST_BYTES,
  type ToLauncher,
} from "./launch-protocol.js";
import { errnoOf, signalGroup, startPrepared } from "./job-start.js";

const jobs = new Map<number, ChildProcess>();

for (const sig of ["SIGTERM", "SIGINT", "SIGHUP"] as const) process.on(sig, () => {});

/** stdout is a pipe: Node writes it synchronously, so an answer is out before the next job. */
const send = (m: FromLauncher) => process.stdout.write(encodeFrame(m));

function end(code: number): never {
  for (const child of jobs.values()) if (child.pid !== undefined) signalGroup(child.pid, "SIGKILL");
  process.exit(code);
}

function start(id: number, m: Extract<ToLauncher, { t: "start" }>): void {
  const r = startPrepared(m.req);
  if (!r.ok) {
    send({ t: "failed", id, stage: r.stage, errno: r.errno, message: r.message });
    return;
  }
  const child = r.child;
  child.once("error", (e) => {
    jobs.delete(id);
    send({ t: "failed", id, stage: "exec", errno: errnoOf(e), message: e.message });
  });
  if (child.pid === undefined) return; // the error event follows
  const pid = child.pid;
  jobs.set(id, child);
  send({ t: "started", id, pid });
  child.once("exit", (code, signal) => {
    // Stragglers left in the group after the leader exits are not the job's business any more.
    signalGroup(pid, "SIGKILL");
    jobs.delete(id);
    send({ t: "exited", id, code, signal });
  });
}

function handle(raw: unknown): void {
  const m = asToLauncher(raw);
  if (!m) {
    process.stderr.write("updraft job launcher: a request it does not know; ending\n");
    end(2);
  }
  if (m.t === "start") start(m.id, m);
  else {
    const pid = jobs.get(m.id)?.pid;
    // A job already reaped is not signalled: its pid may be someone else's by now.
    if (pid !== undefined) signalGroup(pid, m.sig);
  }
}

const decoder = new FrameDecoder(MAX_REQUEST_BYTES);
process.stdin.on("data", (chunk: Buffer) => {
  const d = decoder.push(chunk);
  if (!d.ok) {
    process.stderr.write(`updraft job launcher: ${d.reason}; ending\n`);
    end(2);
  }
  for (const m of d.messages) handle(m);
});
process.stdin.on("end", () => end(0));
process.stdin.on("error", () => end(1));
process.stdout.on("error", () => end(1));
send({ t: "ready", pid: process.pid });
