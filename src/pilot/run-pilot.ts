/**
 * The pilot's main loop: claim jobs while the lifetime allows and resources remain, run them,
 * heartbeat their leases, report outcomes, and stop everything gracefully before the deadline.
 * Each turn is planned without IO (pilot-step.ts, over the state in pilot-state.ts) and applied
 * through JobSource and SlotAdvertiser (pilot-apply.ts), so the loop reads in one screen.
 */
import type { Clock } from "../common/clock.js";
import type { Logger } from "../common/logger.js";
import type { BlackHolePolicy } from "./black-hole.js";
import type { Attrs } from "./failure.js";
import type { HeartbeatPolicy } from "./heartbeat-schedule.js";
import type { JobSource, SlotAdvertiser } from "./interfaces.js";
import type { Resources } from "./ledger.js";
import type { LifetimePlan } from "./lifetime.js";
import type { PeriodicChecks } from "./periodic-scripts.js";
import { FEATURES_POLL_MS } from "./machine-features.js";
import {
  AD_MIN_GAP_MS,
  advertise,
  advertiseChanges,
  claimJobs,
  createPilotContext,
  finalReports,
  flushReports,
  heartbeats,
  type PilotContext,
  periodicOk,
  recordJobGroups,
  stopJobs,
} from "./pilot-apply.js";
import { idleSeconds, turnInputs, turnTaken, waitInputs } from "./pilot-state.js";
import { type PilotExitReason, planTurn, type Turn, waitMs } from "./pilot-step.js";
import type { JobRecord } from "./report.js";
import type { JobHooks } from "./runner/job-hooks.js";
import type { JobSpec } from "./runner/job-spec.js";
import type { RunnerOptions, RunningJob } from "./runner/run-job.js";
import type { SlotIdentity } from "./slot-ad.js";

export interface PilotDeps {
  clock: Clock;
  plan: LifetimePlan;
  identity: SlotIdentity;
  resources: Resources;
  nodeAttrs: Attrs;
  published: Attrs;
  publishedExprs?: Readonly<Record<string, string>>;
  start?: string;
  workDir: string;
  sources: JobSource[];
  advertiser: SlotAdvertiser;
  /** Aborted on SIGTERM: same as reaching the hard deadline. */
  terminate?: AbortSignal;
  /**
   * Waits `ms` of the clock's time, or until `signal` aborts (the wait ended early); tests with a
   * ManualClock advance it here.
   */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  runJob?: (spec: JobSpec, opts: RunnerOptions) => RunningJob;
  runnerOptions?: RunnerOptions;
  /**
   * Jobs start in a launcher process of the pilot's own (runner/launcher.ts) unless the runner
   * options give one, `runJob` replaces the runner, or this says "in-process".
   */
  jobLauncher?: "process" | "in-process";
  /** Heartbeat delay for leases whose schedd did not say how long they last. */
  heartbeatEveryMs?: number;
  /** Heartbeats follow the lease: a fraction of its remaining time, within floor and ceiling. */
  heartbeat?: Partial<Omit<HeartbeatPolicy, "fallbackMs">>;
  advertiseEveryMs?: number;
  /** Pause between claim rounds that found nothing. */
  claimRetryMs?: number;
  keepSandboxes?: boolean;
  /**
   * A file kept listing the process groups of running jobs (one per line), so that whatever
   * started the pilot can end its jobs too if the pilot dies (the local grid adapter does).
   */
  jobGroupsFile?: string;
  /**
   * The earliest shutdown the site announced through Machine/Job Features (ms), read now and
   * then; the pilot drains before it.
   */
  shutdownTime?: () => number | undefined;
  /**
   * When the pilot's credential ends because a renewal did not come in time (ms), asked every
   * turn; the pilot then drains as for a shutdown (see credential-renewal.ts).
   */
  credentialEnd?: () => number | undefined;
  /** Stop taking jobs when they keep ending within seconds (see black-hole.ts); off when absent. */
  blackHole?: BlackHolePolicy;
  /** The site's or VO's job wrapper and pre/post-job scripts (see runner/job-hooks.ts). */
  jobHooks?: JobHooks;
  /**
   * Starts the VO's periodic scripts (see periodic-scripts.ts), calling back when their verdict
   * changes; while one fails the slot takes no new jobs.
   */
  periodicChecks?: (onChange: () => void) => PeriodicChecks;
  log?: Logger;
}

export interface PilotRunResult {
  reason: PilotExitReason;
  /** Why the node was judged a black hole, when it was. */
  blackHole?: string;
  /** Why a job hook failed, when one did: the job went back to the queue and the pilot ended. */
  hookFault?: string;
  jobs: JobRecord[];
  idleS: number;
}

export async function runPilot(deps: PilotDeps): Promise<PilotRunResult> {
  const ctx = createPilotContext(deps);
  try {
    return await runLoop(ctx);
  } finally {
    // Every job has ended by now; a launcher left with one (an exception) kills it as it ends.
    if (ctx.ownsLauncher) await ctx.launcher.close();
  }
}

async function runLoop(ctx: PilotContext): Promise<PilotRunResult> {
  const { deps, state: s } = ctx;
  // The first slot ad and the first claim go out together: the claim does not need the ad, and
  // each opens its own connection (later ads queue behind this one).
  void advertise(ctx, true);
  let reason: PilotExitReason;
  for (;;) {
    const v = await takeTurn(ctx);
    // Reports go out while the pilot claims its next jobs: a slot freed by a finished job is
    // offered again without waiting for that job's outputs to upload.
    const flushing = flushReports(ctx);
    if (v.exit && s.active.size === 0) {
      await flushing;
      reason = v.exit;
      break;
    }
    await heartbeats(ctx);
    const started =
      v.mayStartJobs && periodicOk(ctx) && (await claimJobs(ctx, v.nextChangeInMs, flushing));
    await advertiseChanges(ctx);
    await flushing;
    if (started) continue;
    await ctx.wake.wait(sleepMs(ctx, v.nextChangeInMs));
  }
  ctx.periodic?.stop();
  recordJobGroups(ctx);
  const idleS = idleSeconds(s, deps.clock.now());
  await finalReports(ctx);
  return {
    reason,
    ...(reason === "blackhole" ? { blackHole: s.blackHole.tripped } : {}),
    ...(reason === "job-hook" ? { hookFault: s.hookFault } : {}),
    jobs: s.records,
    idleS,
  };
}

/** Plans this turn from the state and does at once what it says: drain, advertise, stop jobs. */
async function takeTurn(ctx: PilotContext): Promise<Turn["verdict"]> {
  const { deps, state: s } = ctx;
  recordJobGroups(ctx);
  const now = deps.clock.now();
  let shutdownMs: number | undefined;
  if (deps.shutdownTime && now >= s.nextFeaturesCheck) {
    s.nextFeaturesCheck = now + FEATURES_POLL_MS;
    shutdownMs = deps.shutdownTime();
  }
  const turn = planTurn({
    ...turnInputs(s, now, deps.terminate?.aborted, shutdownMs),
    credentialEndMs: deps.credentialEnd?.(),
  });
  if (turn.drainingFor !== undefined) {
    deps.log?.warn(
      { shutdown: new Date(turn.drainingFor).toISOString() },
      turn.plan.drainReason === "credential"
        ? "the pilot's credential was not renewed in time: draining before it expires"
        : "the site announced a shutdown (Machine/Job Features): draining",
    );
  }
  turnTaken(s, turn);
  if (ctx.psChanged) {
    deps.log?.warn({ attrs: ctx.periodic?.attrs() }, "the VO's periodic scripts' verdict changed");
  }
  if (turn.advertiseNow || ctx.psChanged) {
    ctx.psChanged = false;
    await advertise(ctx, true);
  }
  if (turn.stopReason !== undefined) stopJobs(ctx, turn.stopReason);
  return turn.verdict;
}

/** How long the loop sleeps when it started nothing: until the first thing that needs it. */
function sleepMs(ctx: PilotContext, nextChangeInMs: number): number {
  const limits = {
    nextChangeInMs,
    retryMs: ctx.retryMs,
    advertiseEveryMs: ctx.advertiseEveryMs,
    adMinGapMs: AD_MIN_GAP_MS,
  };
  const reportsPending = ctx.pendingReports.length > 0;
  const featuresChecked = ctx.deps.shutdownTime !== undefined;
  return waitMs(
    waitInputs(ctx.state, ctx.deps.clock.now(), limits, reportsPending, featuresChecked),
  );
}
