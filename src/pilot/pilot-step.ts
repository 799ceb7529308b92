/**
 * One turn of the pilot's loop, pure: from the lifetime plan, the site's announced shutdown and
 * what the black-hole detector said, what this turn does (drain, advertise at once, stop the
 * running jobs and why, exit), and how long the loop may then sleep. run-pilot.ts does the IO.
 */
import { judge, type ExitReason, type LifetimePlan, type LifetimeVerdict } from "./lifetime.js";
import { drainForShutdown } from "./machine-features.js";

export type PilotExitReason = ExitReason | "blackhole" | "job-hook";

export interface TurnInputs {
  plan: LifetimePlan;
  nowMs: number;
  runningJobs: number;
  lastJobEndMs?: number;
  terminated?: boolean;
  /** The shutdown the site announces (ms), when it was read this turn. */
  shutdownMs?: number;
  /** When the credential ends without the renewal the plan counted on (ms), once that is so. */
  credentialEndMs?: number | undefined;
  /** The stop-jobs-to-die gap the pilot started with, kept when draining. */
  graceMs: number;
  /** Why the node was judged a black hole, once it was. */
  blackHole?: string;
  /** Why a job hook (a pre-job script) failed, once one did (see runner/job-hooks.ts). */
  hookFault?: string;
  /** What the collector was last told: retired, and whether the black hole was announced. */
  advertisedRetired: boolean;
  advertisedBlackHole: boolean;
}

export interface Turn {
  /** The plan from now on (a new one when the site announced a shutdown before its end). */
  plan: LifetimePlan;
  /** Set when this turn started draining for the site's shutdown. */
  drainingFor?: number;
  verdict: Omit<LifetimeVerdict, "exit"> & { exit?: PilotExitReason };
  /** The slot must be advertised now: it just retired or just became a black hole. */
  advertiseNow: boolean;
  advertisedRetired: boolean;
  advertisedBlackHole: boolean;
  /** Set when running jobs must stop: what the schedd records as their VacateReason. */
  stopReason?: string;
}

/** What a user reads on a job the pilot handed back, by why the pilot stopped. */
export const STOP_REASONS: Partial<Record<PilotExitReason, string>> = {
  terminated: "pilot terminated by its batch system (SIGTERM)",
  walltime: "pilot reached its walltime (GLIDEIN_Max_Walltime)",
  credential: "pilot credential about to expire",
  shutdown: "worker node shutting down (Machine/Job Features shutdowntime)",
};

export function planTurn(x: TurnInputs): Turn {
  const bySite =
    x.shutdownMs === undefined
      ? x.plan
      : drainForShutdown(x.plan, x.shutdownMs, x.nowMs, x.graceMs);
  const drained =
    x.credentialEndMs === undefined
      ? bySite
      : drainForShutdown(bySite, x.credentialEndMs, x.nowMs, x.graceMs, "credential");
  const judged = judge(drained, {
    nowMs: x.nowMs,
    runningJobs: x.runningJobs,
    lastJobEndMs: x.lastJobEndMs,
    terminated: x.terminated,
  });
  // A black hole, or a node whose job hook failed, claims nothing more; it ends once its
  // running jobs have (or sooner, if the lifetime says so).
  const fault =
    x.blackHole !== undefined ? "blackhole" : x.hookFault !== undefined ? "job-hook" : undefined;
  const verdict: Turn["verdict"] =
    fault && !judged.exit
      ? { ...judged, mayStartJobs: false, exit: x.runningJobs === 0 ? fault : undefined }
      : judged;
  // The collector hears at once that the slot takes nothing more, and why.
  const advertiseNow =
    (judged.retired && !x.advertisedRetired) ||
    (x.blackHole !== undefined && !x.advertisedBlackHole);
  return {
    plan: drained,
    ...(drained !== x.plan ? { drainingFor: drained.dieAtMs } : {}),
    verdict,
    advertiseNow,
    advertisedRetired: x.advertisedRetired || (advertiseNow && judged.retired),
    advertisedBlackHole: x.advertisedBlackHole || (advertiseNow && x.blackHole !== undefined),
    ...(verdict.stopJobs ? { stopReason: STOP_REASONS[verdict.exit ?? "terminated"] } : {}),
  };
}

export interface WaitInputs {
  /** From the verdict; 0 when nothing is scheduled to change. */
  nextChangeInMs: number;
  retryMs: number;
  advertiseEveryMs: number;
  /** Set while a slot ad is owed: when it may go (ms from now). */
  adDueInMs?: number;
  /** Ms until each running job's next heartbeat (jobs being stopped left out). */
  heartbeatsInMs: readonly number[];
  reportsPending: boolean;
  /** Ms until the next Machine/Job Features read, when the site publishes them. */
  featuresCheckInMs?: number;
}

/** How long the loop sleeps when it started nothing: until the first thing that needs it. */
export function waitMs(x: WaitInputs): number {
  const waits = [x.nextChangeInMs || x.retryMs, x.retryMs, x.advertiseEveryMs];
  if (x.adDueInMs !== undefined) waits.push(x.adDueInMs);
  waits.push(...x.heartbeatsInMs);
  if (x.reportsPending) waits.push(x.retryMs);
  if (x.featuresCheckInMs !== undefined) waits.push(x.featuresCheckInMs);
  return Math.max(1, Math.min(...waits));
}
