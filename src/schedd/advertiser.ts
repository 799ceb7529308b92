/**
 * The schedd's Scheduler ad for the collector. Building the ad is pure; sending goes through an
 * injected function and tolerates a collector that is down or not there yet (logged, retried on
 * the next interval), so the schedd never depends on it.
 */
import type { Logger } from "pino";
import type { JobAttrs } from "./job-status.js";
import { quote } from "./job-status.js";
import type { OwnerCounts } from "./queue-index.js";

export interface SchedulerAdInput {
  name: string;
  address: string;
  owners: ReadonlyMap<string, OwnerCounts>;
  nowS: number;
}

/** One Scheduler ad: totals, and per owner `Owner_<user>_{Idle,Running,Held}Jobs` plus a list. */
export function buildSchedulerAd(input: SchedulerAdInput): JobAttrs {
  let idle = 0;
  let running = 0;
  let held = 0;
  const owners = [...input.owners.entries()]
    .filter(([, c]) => c.idle + c.running + c.held > 0)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const ad: JobAttrs = {
    MyType: quote("Scheduler"),
    Name: quote(input.name),
    ScheddIpAddr: quote(input.address),
    MyAddress: quote(input.address),
    DaemonStartTime: String(input.nowS),
    LastHeardFrom: String(input.nowS),
  };
  const perOwner: string[] = [];
  for (const [owner, c] of owners) {
    idle += c.idle;
    running += c.running;
    held += c.held;
    perOwner.push(
      `[ Name = ${quote(owner)}; IdleJobs = ${c.idle}; RunningJobs = ${c.running}; HeldJobs = ${c.held} ]`,
    );
  }
  ad.TotalIdleJobs = String(idle);
  ad.TotalRunningJobs = String(running);
  ad.TotalHeldJobs = String(held);
  ad.NumUsers = String(owners.length);
  ad.Submitters = `{ ${perOwner.join(", ")} }`;
  return ad;
}

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
