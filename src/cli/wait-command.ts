/**
 * `updraft wait ID|LOGFILE [--timeout S]`: wait until a cluster (or job) has finished, with a
 * live progress bar on a terminal and a plain line per change otherwise. Given a job event log
 * (as condor_wait), it waits for the jobs submitted into it. While it waits it appends each
 * job's new events to its `log = FILE`, on this host. Exits 1 if any job failed (non-zero exit,
 * signal, removed) or is held, 2 on timeout.
 */
import { existsSync } from "node:fs";
import type { Command } from "commander";
import { HtcondorCommand } from "./htcondor-args.js";
import { parseJobId, type JobAttrs } from "../schedd/job-status.js";
import { CliError } from "./errors.js";
import { withConnectionOptions, withSchedd, type ScheddFlags } from "./schedd-connection.js";
import { USER_LOG_ATTRS, appendEvents, eventsFromAd, parseUserLog } from "./user-log.js";
import { readBoundedText } from "../common/bounded-read.js";
import { MAX_USER_LOG_BYTES } from "./user-log.js";

/** The jobs a log's 000 events name, as `cluster.proc`. */
export function jobsInLog(text: string): string[] {
  const ids = new Set<string>();
  for (const e of parseUserLog(text)) if (e.code === 0) ids.add(`${e.cluster}.${e.proc}`);
  return [...ids];
}

/** Append each job's new events to its own log; a log that cannot be written is said once. */
function writeEvents(ads: readonly JobAttrs[], failed: Set<string>): void {
  const byLog = new Map<string, ReturnType<typeof eventsFromAd>>();
  for (const ad of ads) {
    const log = ad.UserLog?.startsWith('"') ? (JSON.parse(ad.UserLog) as string) : undefined;
    if (log) byLog.set(log, [...(byLog.get(log) ?? []), ...eventsFromAd(ad)]);
  }
  for (const [log, events] of byLog) {
    try {
      appendEvents(log, events);
    } catch (err) {
      if (failed.has(log)) continue;
      failed.add(log);
      process.stderr.write(`WARNING: cannot write the job log ${log}: ${(err as Error).message}\n`);
    }
  }
}

export interface Progress {
  total: number;
  idle: number;
  running: number;
  held: number;
  done: number;
  failed: number;
}

/** Pure: where a set of jobs stands, from their queue and history ads. */
export function progressOf(queue: readonly JobAttrs[], history: readonly JobAttrs[]): Progress {
  const p: Progress = {
    total: queue.length + history.length,
    idle: 0,
    running: 0,
    held: 0,
    done: 0,
    failed: 0,
  };
  for (const a of queue) {
    if (a.JobStatus === "1") p.idle++;
    else if (a.JobStatus === "2") p.running++;
    else if (a.JobStatus === "5") p.held++;
  }
  for (const a of history) {
    const ok = a.JobStatus === "4" && a.ExitBySignal !== "true" && (a.ExitCode ?? "0") === "0";
    if (ok) p.done++;
    else p.failed++;
  }
  return p;
}

export function progressLine(p: Progress): string {
  return `${p.done + p.failed}/${p.total} finished: ${p.idle} idle, ${p.running} running, ${p.held} held, ${p.done} done, ${p.failed} failed`;
}

export function progressBar(p: Progress, width = 30): string {
  const filled = p.total === 0 ? width : Math.round(((p.done + p.failed) / p.total) * width);
  return `[${"#".repeat(filled)}${".".repeat(width - filled)}] ${progressLine(p)}`;
}

export function createWaitCommand(): Command {
  return withConnectionOptions(new HtcondorCommand("wait"))
    .description("wait for a cluster or job to finish; non-zero exit if any job failed or was held")
    .argument("<id>", "CLUSTER, CLUSTER.PROC, or a job event log (log = FILE)")
    .option("--timeout <seconds>", "give up after this long (exit 2)")
    .option("--poll <seconds>", "how often to ask the schedd", "1")
    .action(async (id: string, o: ScheddFlags & { timeout?: string; poll: string }) => {
      let ids = [id];
      if (!parseJobId(id)) {
        if (!existsSync(id)) {
          throw new CliError(
            `'${id}' is not a job id (CLUSTER or CLUSTER.PROC) nor a job event log file`,
          );
        }
        ids = jobsInLog(readBoundedText(id, MAX_USER_LOG_BYTES));
        if (ids.length === 0) throw new CliError(`${id} has no job submitted in it`);
      }
      const failedLogs = new Set<string>();
      const timeoutMs = o.timeout === undefined ? Infinity : Number(o.timeout) * 1000;
      const pollMs = Math.max(100, Number(o.poll) * 1000);
      if (Number.isNaN(timeoutMs) || Number.isNaN(pollMs))
        throw new CliError("--timeout and --poll take seconds");
      const tty = process.stdout.isTTY === true;
      const started = Date.now();
      await withSchedd(o, "waiting", async ({ client }) => {
        let last = "";
        for (;;) {
          const projection = USER_LOG_ATTRS;
          const q = await client.query({ ids, projection });
          const h = await client.query({ ids, projection, history: true });
          writeEvents([...q, ...h], failedLogs);
          const p = progressOf(q, h);
          if (p.total === 0) throw new CliError(`no job ${id} in the queue or in history`);
          const line = tty ? progressBar(p) : progressLine(p);
          if (line !== last) process.stdout.write(tty ? `\r${line}` : `${line}\n`);
          last = line;
          if (p.idle + p.running === 0) {
            if (tty) process.stdout.write("\n");
            if (p.failed + p.held > 0) process.exitCode = 1;
            return;
          }
          if (Date.now() - started >= timeoutMs) {
            if (tty) process.stdout.write("\n");
            throw new CliError(
              `timed out after ${o.timeout} s with ${p.idle + p.running} job(s) not finished`,
              2,
            );
          }
          await new Promise((r) => setTimeout(r, pollMs));
        }
      });
    });
}
