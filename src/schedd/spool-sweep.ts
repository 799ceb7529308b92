/**
 * Spool space goes back once jobs leave the queue. Sandboxes live in
 * `<spool>/<cluster>/<proc|shared>/{input,output}`; a sweep (at start and every few minutes)
 * compares them with the queue and history, so a schedd killed between a job leaving the queue
 * and its files going leaves nothing behind for long:
 *
 *   job still in the queue                  keep everything
 *   completed, within keep_output_s         drop its input (the output waits for transfer-output)
 *   completed earlier, removed, or unknown  drop the job's directory
 *   `shared` of a cluster with no queued job drop it (only inputs live there)
 *
 * Names the schedd did not make (anything not numeric) are left alone.
 */
import { readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { JobStatus } from "./job-status.js";

export interface SpoolJobView {
  inQueue: boolean;
  /** From history: how the job ended and when (ms). */
  finished?: { status: number; atMs: number };
}

export type SpoolVerdict = "keep" | "drop-input" | "drop";

/** What to do with one job's spool directory (pure). */
export function spoolVerdict(job: SpoolJobView, nowMs: number, keepOutputMs: number): SpoolVerdict {
  if (job.inQueue) return "keep";
  const f = job.finished;
  if (f && f.status === JobStatus.Completed && nowMs - f.atMs < keepOutputMs) return "drop-input";
  return "drop";
}

export interface SweepDeps {
  spoolDir: string;
  job(cluster: number, proc: number): SpoolJobView;
  clusterQueued(cluster: number): boolean;
  nowMs: number;
  keepOutputMs: number;
}

export interface SweepResult {
  jobsDropped: number;
  inputsDropped: number;
}

const NUMBER = /^(0|[1-9]\d*)$/;

function list(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

export function sweepSpool(d: SweepDeps): SweepResult {
  const out: SweepResult = { jobsDropped: 0, inputsDropped: 0 };
  for (const c of list(d.spoolDir)) {
    if (!NUMBER.test(c)) continue;
    const cluster = Number(c);
    const clusterDir = join(d.spoolDir, c);
    for (const p of list(clusterDir)) {
      const dir = join(clusterDir, p);
      if (p === "shared") {
        if (!d.clusterQueued(cluster)) rmSync(dir, { recursive: true, force: true });
        continue;
      }
      if (!NUMBER.test(p)) continue;
      const verdict = spoolVerdict(d.job(cluster, Number(p)), d.nowMs, d.keepOutputMs);
      if (verdict === "drop") {
        rmSync(dir, { recursive: true, force: true });
        out.jobsDropped++;
      } else if (verdict === "drop-input" && list(dir).includes("input")) {
        rmSync(join(dir, "input"), { recursive: true, force: true });
        out.inputsDropped++;
      }
    }
    if (list(clusterDir).length === 0) rmSync(clusterDir, { recursive: true, force: true });
  }
  return out;
}
