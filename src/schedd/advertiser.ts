/**
 * The schedd's Scheduler ad for the collector. Building the ad is pure; sending goes through an
 * injected function and tolerates a collector that is down or not there yet (logged, retried on
 * the next interval), so the schedd never depends on it.
 */
import type { Logger } from "pino";
import { type EntryJobCpu, type SubmitterCounts, writeScheduler } from "../ads/index.js";
import type { JobAttrs } from "./job-status.js";
import type { OwnerCounts } from "./queue-index.js";

export interface SchedulerAdInput {
  name: string;
  address: string;
  owners: ReadonlyMap<string, OwnerCounts>;
  /** Job CPU seconds by the entry (and factory) of the pilot that ran them. */
  cpuByEntry?: Iterable<Readonly<EntryJobCpu>>;
  nowS: number;
}

/**
 * One Scheduler ad: totals, per owner with jobs its counts in `Submitters`, and per entry its
 * pilots' job CPU in `JobCpuByEntry`.
 */
export function buildSchedulerAd(input: SchedulerAdInput): JobAttrs {
  const submitters = [...input.owners.entries()]
    .filter(([, c]) => c.idle + c.running + c.held > 0)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, c]) => ({ name, idleJobs: c.idle, runningJobs: c.running, heldJobs: c.held }));
  const sum = (pick: (s: SubmitterCounts) => number) => submitters.reduce((n, s) => n + pick(s), 0);
  return writeScheduler({
    name: input.name,
    address: input.address,
    daemonStartTimeS: input.nowS,
    lastHeardFromS: input.nowS,
    totalIdleJobs: sum((s) => s.idleJobs),
    totalRunningJobs: sum((s) => s.runningJobs),
    totalHeldJobs: sum((s) => s.heldJobs),
    submitters,
    jobCpuByEntry: [...(input.cpuByEntry ?? [])]
      .map((e) => ({ ...e }))
      .sort((a, b) => byText(a.entry, b.entry) || byText(a.factory ?? "", b.factory ?? "")),
  }).toJSON();
}

const byText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

export type AdSender = (ad: JobAttrs) => Promise<void>;

/** Advertise every `intervalMs`; failures are logged once per streak, never thrown. */
export function startAdvertiser(
  build: () => JobAttrs,
  send: AdSender,
  intervalMs: number,
  log: Logger,
): { stop(): void; advertiseNow(): Promise<boolean> } {
  let failing = false;
  const advertiseNow = async (): Promise<boolean> => {
    try {
      await send(build());
      if (failing) log.info("collector reachable again");
      failing = false;
      return true;
    } catch (err) {
      if (!failing) log.warn({ err }, "cannot advertise to the collector; will keep trying");
      failing = true;
      return false;
    }
  };
  const timer = setInterval(() => void advertiseNow(), intervalMs);
  timer.unref();
  void advertiseNow();
  return { stop: () => clearInterval(timer), advertiseNow };
}
