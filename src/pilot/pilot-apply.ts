/**
 * The pilot loop's IO, as pilot-state.ts decides it: advertise the slot, claim and start jobs,
 * heartbeat their leases, take their ends, and send outcomes back to the schedds, retried until
 * taken. One schedd failing blocks no other.
 */
import { join } from "node:path";
import { JOB } from "../ads/names.js";
import { abortableSleep } from "../common/clock.js";
import { gpuEnvironment, parseGpuNames } from "./gpu-assignment.js";
import { DEFAULT_HEARTBEAT, type HeartbeatPolicy } from "./heartbeat-schedule.js";
import type { JobLease, JobSource } from "./interfaces.js";
import { createJobGroupsFile, type JobGroupsFile } from "./job-groups-file.js";
import {
  type ActiveJob,
  childrenSent,
  createPilotState,
  adFailed,
  adTaken,
  heartbeatAnswered,
  heartbeatDue,
  heartbeatFailed,
  jobClaimed,
  jobEnded,
  jobReport,
  type PilotState,
  stopping,
} from "./pilot-state.js";
import type { PilotDeps } from "./run-pilot.js";
import { startHookedJob } from "./runner/job-hooks.js";
import { jobSpecFromAd, type JobSpec, requestOf } from "./runner/job-spec.js";
import { createProcessLauncher, inProcessLauncher, type JobLauncher } from "./runner/launcher.js";
import type { JobOutcome, RunnerOptions, RunningJob } from "./runner/run-job.js";
import {
  buildDynamicSlotAds,
  buildSlotAd,
  dynamicSlotAdName,
  type SlotAdInput,
  type SlotJob,
  slotName,
} from "./slot-ad.js";
import type { PeriodicChecks } from "./periodic-scripts.js";
import { createSandboxStore, type SandboxStore } from "./sandbox-reuse.js";
import { createWakeup, type Wakeup } from "./wakeup.js";

export interface PilotContext {
  deps: PilotDeps;
  state: PilotState;
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  runJob: (spec: JobSpec, opts: RunnerOptions) => RunningJob;
  hb: HeartbeatPolicy;
  advertiseEveryMs: number;
  retryMs: number;
  /** Ends the loop's sleep early: a job ended, or SIGTERM came. */
  wake: Wakeup;
  /** Outcomes not yet taken by their schedd; each is retried. */
  pendingReports: PendingReport[];
  /** Sandboxes being emptied or removed, awaited before the pilot ends. */
  removals: Set<Promise<void>>;
  /** Where sandboxes come from and go: emptied ones are used again (see sandbox-reuse.ts). */
  sandboxes: SandboxStore;
  /** The running jobs' process groups, for whatever started the pilot (job-groups-file.ts). */
  jobGroups: JobGroupsFile;
  /** The VO's periodic scripts, when it has any (see periodic-scripts.ts). */
  periodic?: PeriodicChecks;
  /** Their verdict changed since the slot was last advertised. */
  psChanged: boolean;
  /** Ends a wait for a job made with a slot ad from before the verdict changed. */
  pollAbort?: AbortController;
  /** The advertisement in flight: the next waits for it, so ads reach the collector in order. */
  advertising: Promise<void>;
  /** What starts the jobs (see runner/launcher.ts). */
  launcher: JobLauncher;
  /** The launcher is this pilot's own, ended with it (not one the caller gave). */
  ownsLauncher: boolean;
}

/** A job's outcome for its schedd, sent (again) until taken. */
export interface PendingReport {
  source: JobSource;
  send: () => Promise<void>;
}

/**
 * Whether a peer may answer now. A schedd or collector whose connection is known to be down is
 * not called: the call would only wait for its deadline, holding the loop (and, at the end, the
 * pilot's exit) while the pool is gone.
 */
const reachable = (peer: { reachable?(): boolean }): boolean => peer.reachable?.() ?? true;

/** False while a VO periodic script fails: the slot takes no new jobs. */
export const periodicOk = (ctx: PilotContext): boolean => ctx.periodic?.ok() ?? true;

/**
 * The caller's launcher, or a launcher process of the pilot's own when it runs real jobs: started
 * now, it is ready by the time the first claim comes back.
 */
function launcherFor(deps: PilotDeps): { launcher: JobLauncher; ownsLauncher: boolean } {
  const given = deps.runnerOptions?.launcher;
  if (given) return { launcher: given, ownsLauncher: false };
  if (deps.runJob || deps.jobLauncher === "in-process") {
    return { launcher: inProcessLauncher, ownsLauncher: false };
  }
  return { launcher: createProcessLauncher({ log: deps.log }), ownsLauncher: true };
}

export function createPilotContext(deps: PilotDeps): PilotContext {
  const sleep = deps.sleep ?? abortableSleep;
  const wake = createWakeup(sleep);
  deps.terminate?.addEventListener("abort", () => wake.now());
  const ctx: PilotContext = {
    deps,
    state: createPilotState(
      deps.plan,
      deps.resources,
      deps.blackHole,
      deps.clock.now(),
      parseGpuNames(String(deps.nodeAttrs.AssignedGPUs ?? "")),
    ),
    sleep,
    runJob:
      deps.runJob ??
      ((spec, opts) => startHookedJob(spec, opts, deps.jobHooks ?? {}, (m) => deps.log?.warn(m))),
    hb: {
      ...DEFAULT_HEARTBEAT,
      ...deps.heartbeat,
      fallbackMs: deps.heartbeatEveryMs ?? DEFAULT_HEARTBEAT.fallbackMs,
    },
    advertiseEveryMs: deps.advertiseEveryMs ?? 60_000,
    retryMs: deps.claimRetryMs ?? 10_000,
    wake,
    pendingReports: [],
    removals: new Set(),
    // Two per CPU: the next job is claimed while the last one's sandbox is still being emptied.
    sandboxes: createSandboxStore(2 * Math.max(1, Math.floor(deps.resources.cpus))),
    jobGroups: createJobGroupsFile(deps.jobGroupsFile, (err) =>
      deps.log?.warn({ err }, "cannot write the job groups file"),
    ),
    psChanged: false,
    advertising: Promise.resolve(),
    ...launcherFor(deps),
  };
  ctx.periodic = deps.periodicChecks?.(() => {
    ctx.psChanged = true;
    ctx.pollAbort?.abort();
    wake.now();
  });
  return ctx;
}

function slotInput(ctx: PilotContext): SlotAdInput {
  const { deps, state: s, periodic } = ctx;
  return {
    id: deps.identity,
    nodeAttrs: periodic ? { ...deps.nodeAttrs, ...periodic.attrs() } : deps.nodeAttrs,
    published: deps.published,
    publishedExprs: deps.publishedExprs,
    total: deps.resources,
    remaining: s.ledger.remaining(),
    start: periodicOk(ctx) ? deps.start : "false",
    plan: s.plan,
    retired: s.retired || s.blackHole.tripped !== undefined,
    blackHole: s.blackHoleChecked ? (s.blackHole.tripped ?? false) : undefined,
    jobs: [...s.active.values()].map(slotJob),
    freeGpuNames: s.hasGpus ? s.gpus.free() : undefined,
    nowMs: deps.clock.now(),
  };
}

const slotJob = (a: ActiveJob): SlotJob => ({
  n: a.n,
  jobId: a.lease.jobId,
  owner: a.lease.ad.getString(JOB.User) ?? a.lease.ad.getString(JOB.Owner) ?? "",
  resources: requestOf(a.lease.ad),
  gpuNames: a.gpus,
  claimedMs: a.startedAt,
});

/** The partitionable slot's ad, as the pilot claims jobs with it. */
export function slotAd(ctx: PilotContext) {
  return buildSlotAd(slotInput(ctx));
}

/**
 * Sends the slot ad and its running jobs' dynamic slots when due (periodically, or for a retry),
 * or now when `force`, and withdraws the dynamic slots of jobs that ended. Ended jobs' slots go
 * first: a collector holds a bound pilot to its CPUs + 1 Slot ads, so the next job's slot sent
 * beside a finished one's would be refused. A failure, a refusal, or no collector reachable is
 * tried again after a short backoff (adFailed).
 */
export function advertise(ctx: PilotContext, force = false): Promise<void> {
  const previous = ctx.advertising;
  const send = () => sendAds(ctx, force);
  const mine = previous.then(send, send);
  ctx.advertising = mine;
  return mine;
}

async function sendAds(ctx: PilotContext, force: boolean): Promise<void> {
  const { deps, state: s } = ctx;
  const now = deps.clock.now();
  // After a failure the backoff says when, not the periodic interval (due at every turn while
  // no advertisement was ever taken).
  const due =
    s.adRetryAt !== undefined ? now >= s.adRetryAt : now - s.lastAdvertised >= ctx.advertiseEveryMs;
  if (!force && !due) return;
  if (!reachable(deps.advertiser)) {
    adFailed(s, now, ctx.advertiseEveryMs);
    return;
  }
  let ok = await withdrawChildren(ctx, WITHDRAW_DEADLINE_MS);
  const input = slotInput(ctx);
  try {
    await deps.advertiser.advertise(buildSlotAd(input), buildDynamicSlotAds(input));
    s.lastAdvertised = deps.clock.now();
    childrenSent(
      s,
      input.jobs.map((j) => j.n),
    );
  } catch (err) {
    deps.log?.warn({ err }, "advertise failed; will retry");
    ok = false;
  }
  if (!(await withdrawChildren(ctx, WITHDRAW_DEADLINE_MS))) ok = false;
  if (ok) adTaken(s);
  else adFailed(s, deps.clock.now(), ctx.advertiseEveryMs);
}

/**
 * Removes ended jobs' dynamic slots from the collector, all at once, each call bounded by
 * `deadlineMs`; those that fail are tried next time. False when any failed.
 */
async function withdrawChildren(ctx: PilotContext, deadlineMs: number): Promise<boolean> {
  const { deps, state: s } = ctx;
  const names = s.childrenToWithdraw.splice(0);
  const failed = await withdrawAll(
    ctx,
    names.map((n) => dynamicSlotAdName(deps.identity, n)),
    deadlineMs,
  );
  s.childrenToWithdraw.push(...names.filter((_, i) => failed.has(i)));
  return failed.size === 0;
}

/** Invalidates the named slot ads in parallel; the indexes of those that failed. */
async function withdrawAll(
  ctx: PilotContext,
  names: readonly string[],
  deadlineMs: number,
): Promise<Set<number>> {
  const failed = new Set<number>();
  await Promise.all(
    names.map(async (name, i) => {
      try {
        await ctx.deps.advertiser.invalidate(name, { deadlineMs });
      } catch (err) {
        ctx.deps.log?.warn({ err, name }, "withdrawing a slot ad failed");
        failed.add(i);
      }
    }),
  );
  return failed;
}

/** Lists again the groups of the jobs still running, if a job ended since the last time. */
export function recordJobGroups({ jobGroups, state: s }: PilotContext): void {
  jobGroups.flush(() => [...s.active.values()].flatMap((a) => (a.job.pid ? [a.job.pid] : [])));
}

function finishJob(ctx: PilotContext, a: ActiveJob, outcome: JobOutcome): void {
  const { deps } = ctx;
  const end = jobEnded(ctx.state, a, outcome, deps.clock.now());
  ctx.jobGroups.ended();
  if (end.firstHookFault) deps.log?.warn({ reason: end.firstHookFault }, "job hook failed: ending");
  if (end.blackHoleTripped) {
    deps.log?.warn({ reason: end.blackHoleTripped }, "black hole: taking no more jobs");
  }
  // Reports wait in a queue and are retried, so a schedd restart does not lose an outcome.
  const send = async () => {
    const report = jobReport(a, end.disposition);
    if (report.kind === "release") {
      await a.source.release(a.lease, report.reason, {
        inputTransferFailed: report.inputTransferFailed,
      });
    } else if (report.kind === "complete") await a.source.complete(a.lease, outcome, a.dir);
    // Off the main thread: emptying and removing directories is slow on some filesystems and
    // would stall every other job's bookkeeping.
    if (!deps.keepSandboxes) {
      const removal = ctx.sandboxes.release(a.dir);
      ctx.removals.add(removal);
      void removal.then(() => ctx.removals.delete(removal));
    }
  };
  ctx.pendingReports.push({ source: a.source, send });
  ctx.wake.now();
}

/**
 * One attempt at every queued report whose schedd is reachable, all at once (each is a few round
 * trips to its schedd); failures and reports for schedds known to be down stay queued, one
 * schedd down blocks no other.
 */
export async function flushReports(ctx: PilotContext): Promise<void> {
  const all = ctx.pendingReports.splice(0);
  ctx.pendingReports.push(...all.filter((r) => !reachable(r.source)));
  await Promise.all(
    all
      .filter((r) => reachable(r.source))
      .map(async (report) => {
        try {
          await report.send();
        } catch (err) {
          ctx.deps.log?.warn({ err }, "reporting a job failed; will retry");
          ctx.pendingReports.push(report);
        }
      }),
  );
}

/** True when the job started (or failed to start); false when it did not fit. */
async function startClaimed(ctx: PilotContext, lease: JobLease, source: JobSource) {
  const { deps, state: s } = ctx;
  const executeDir = join(deps.workDir, "execute");
  const a = jobClaimed(s, lease, source, executeDir, deps.clock.now(), ctx.hb);
  if (!a) {
    await source.release(lease, "does not fit the slot's remaining resources").catch(() => {});
    return false;
  }
  try {
    // The loop stops jobs at stopJobsAtMs; the runner's backstop is the hard deadline itself.
    const remainingLifetimeS = Math.max(1, (s.plan.dieAtMs - deps.clock.now()) / 1000);
    const spec = jobSpecFromAd(lease.jobId, lease.ad, a.dir, {
      remainingLifetimeS,
      credentialFile: lease.credentialFile,
    });
    if (!spec.ok) {
      finishJob(ctx, a, failedStart(lease.jobId, spec.message, spec.holdCode));
      return true;
    }
    try {
      ctx.sandboxes.make(a.dir);
      await source.stageIn(lease, a.dir);
    } catch (err) {
      // No sandbox or no inputs (the schedd restarting mid-transfer, a full disk): the job
      // never ran, so it must not complete as a failure; it goes back to the queue.
      a.handBack = true;
      a.inputTransferFailed = true;
      a.stopReason = `input transfer failed: ${(err as Error).message}`;
      throw err;
    }
    // The job's own GPUs, whatever its Environment says (as HTCondor's starter sets them).
    const env = { ...spec.spec.env, ...gpuEnvironment(a.gpus, s.hasGpus) };
    a.job = ctx.runJob({ ...spec.spec, env }, { ...deps.runnerOptions, launcher: ctx.launcher });
  } catch (err) {
    finishJob(ctx, a, failedStart(lease.jobId, (err as Error).message));
    return true;
  }
  // Listed the moment it has a group; a launcher process names it a little later.
  void Promise.resolve(a.job.started ?? a.job.pid).then((pid) => ctx.jobGroups.started(pid));
  void a.job.done.then((o) => finishJob(ctx, a, o));
  return true;
}

/**
 * One pass over the sources, starting where the last pass stopped; true if a job started.
 * `waitS` > 0 long-polls (only used with a single source, so no schedd waits on another).
 */
async function claimRound(ctx: PilotContext, waitS = 0): Promise<boolean> {
  const { deps, state: s } = ctx;
  for (let i = 0; i < deps.sources.length; i++) {
    const source = deps.sources[(s.nextSource + i) % deps.sources.length]!;
    if (!reachable(source)) continue;
    let leases: JobLease[];
    try {
      ctx.pollAbort = waitS > 0 ? new AbortController() : undefined;
      const signals = [ctx.pollAbort?.signal, deps.terminate].filter((x) => x !== undefined);
      const wait = waitS > 0 ? { waitS, signal: AbortSignal.any(signals) } : undefined;
      // A slot with several free CPUs fills them in one call where the schedd can. The jobs
      // offered take the next dynamic slot numbers, in the order they come.
      const free = s.ledger.remaining().cpus;
      leases =
        source.claimMany && free > 1
          ? await source.claimMany(slotAd(ctx), free, wait, s.seq + 1)
          : [await source.claim(slotAd(ctx), wait, s.seq + 1)].filter((l) => l !== undefined);
    } catch (err) {
      deps.log?.warn({ err, schedd: source.name }, "claim failed");
      continue;
    }
    if (leases.length === 0) continue;
    s.nextSource = (s.nextSource + i + 1) % deps.sources.length;
    if (!periodicOk(ctx)) {
      // Matched with the slot ad from before a periodic check failed: the slot takes no job now,
      // so they go back at once rather than wait for their leases to lapse.
      for (const lease of leases) {
        await source.release(lease, PERIODIC_CHECK_FAILED).catch((err: unknown) => {
          deps.log?.warn({ err, jobId: lease.jobId }, "giving back a job failed");
        });
      }
      return false;
    }
    let started = false;
    for (const lease of leases) if (await startClaimed(ctx, lease, source)) started = true;
    return started;
  }
  return false;
}

export async function heartbeats(ctx: PilotContext): Promise<void> {
  const { deps, state: s } = ctx;
  for (const a of [...s.active.values()]) {
    if (!heartbeatDue(a, deps.clock.now())) continue;
    if (!reachable(a.source)) {
      // Tried again as after a failed call, without holding the loop for its deadline.
      heartbeatFailed(a, deps.clock.now(), ctx.hb);
      continue;
    }
    try {
      const v = await a.source.heartbeat(a.lease);
      const kill = heartbeatAnswered(a, v, deps.clock.now(), ctx.hb);
      if (kill) a.job.kill(kill.kind, kill.reason);
    } catch (err) {
      heartbeatFailed(a, deps.clock.now(), ctx.hb);
      deps.log?.warn({ err, jobId: a.lease.jobId }, "heartbeat failed");
    }
  }
}

/** Claims while the slot has CPUs left; true if a job started. */
export async function claimJobs(
  ctx: PilotContext,
  nextChangeInMs: number,
  flushing: Promise<void>,
) {
  const { deps, state: s } = ctx;
  let started = false;
  while (s.ledger.remaining().cpus > 0 && (await claimRound(ctx))) started = true;
  // An idle pilot with one schedd waits at the schedd for work rather than asleep here:
  // a job submitted meanwhile starts at once, not at the next retry. Nothing else needs
  // the loop meanwhile (no job to heartbeat, no report to send), and the wait ends before
  // the lifetime plan's next change.
  if (!started) await flushing;
  const quiet = s.active.size === 0 && ctx.pendingReports.length === 0;
  if (!started && quiet && deps.sources.length === 1 && !deps.terminate?.aborted) {
    // Nor past a slot ad's retry: a refused or failed advertisement is tried again on time.
    const adRetryInMs = s.adRetryAt === undefined ? LONG_POLL_MS : s.adRetryAt - deps.clock.now();
    const waitS = Math.floor(
      Math.min(LONG_POLL_MS, nextChangeInMs || LONG_POLL_MS, adRetryInMs) / 1000,
    );
    if (waitS >= 1 && (await claimRound(ctx, waitS))) started = true;
  }
  if (started) s.adStale = true;
  return started;
}

/** A slot's state changes with every job; the collector hears of it at most once a second. */
export async function advertiseChanges(ctx: PilotContext): Promise<void> {
  const s = ctx.state;
  if (s.adStale && ctx.deps.clock.now() - s.lastAdvertised >= AD_MIN_GAP_MS) {
    s.adStale = false;
    await advertise(ctx, true);
  } else await advertise(ctx);
}

/**
 * A few more tries for outcomes a schedd has not taken yet, within the pilot's own deadline and
 * only while some schedd they are for is reachable (one that is gone requeues the job when its
 * lease lapses); then the sandboxes are gone and the slot's ads withdrawn, all at once, within
 * EXIT_WITHDRAW_DEADLINE_MS, or not at all when no collector is reachable (they expire there).
 * So a pilot whose pool is gone leaves within that bound once its jobs have stopped.
 */
export async function finalReports(ctx: PilotContext): Promise<void> {
  const { deps, state: s } = ctx;
  // An ad still on its way would otherwise land after the withdrawal below.
  await ctx.advertising;
  for (let i = 0; i < FINAL_REPORT_TRIES && ctx.pendingReports.some(reportable); i++) {
    if (i > 0 && deps.clock.now() + ctx.retryMs >= s.plan.dieAtMs) break;
    if (i > 0) await ctx.sleep(ctx.retryMs);
    await flushReports(ctx);
  }
  if (ctx.pendingReports.length > 0) {
    const schedds = [...new Set(ctx.pendingReports.map((r) => r.source.name))];
    deps.log?.warn(
      { jobs: ctx.pendingReports.length, schedds },
      "leaving with job outcomes not taken; their schedd requeues the jobs when the leases lapse",
    );
  }
  await Promise.all(ctx.removals);
  await ctx.sandboxes.drain();
  const names = [...s.childrenToWithdraw, ...s.childrenAdvertised].map((n) =>
    dynamicSlotAdName(deps.identity, n),
  );
  s.childrenToWithdraw.length = 0;
  s.childrenAdvertised.clear();
  // The partitionable slot last in the list, so a reader sees it go with or after its children.
  names.push(slotName(deps.identity));
  if (!reachable(deps.advertiser)) {
    deps.log?.warn({ ads: names.length }, "no collector reachable: the slot's ads expire there");
    return;
  }
  await withdrawAll(ctx, names, EXIT_WITHDRAW_DEADLINE_MS);
}

const reportable = (r: PendingReport): boolean => reachable(r.source);

/** Stops the running jobs; their leases go back with `reason` as each one ends. */
export function stopJobs(ctx: PilotContext, reason: string): void {
  for (const a of stopping(ctx.state, reason)) a.job.kill("pilot-stop");
}

function failedStart(jobId: string, message: string, holdCode?: number): JobOutcome {
  return {
    ...(holdCode === undefined ? {} : { startFailure: { code: holdCode, subcode: 0 } }),
    jobId,
    exitCode: null,
    signal: null,
    wallS: 0,
    userS: 0,
    sysS: 0,
    peakRssMb: 0,
    startError: message,
  };
}

/** Why a job matched as a periodic check failed goes back to the queue. */
export const PERIODIC_CHECK_FAILED = "a periodic check of the VO failed as the job was matched";
const FINAL_REPORT_TRIES = 3;
/** Longest wait for a collector to take the withdrawal of an ended job's dynamic slot. */
export const WITHDRAW_DEADLINE_MS = 5_000;
/** Longest wait for the collectors to take the slot's withdrawal as the pilot leaves. */
export const EXIT_WITHDRAW_DEADLINE_MS = 3_000;
/** Longest single wait at the schedd for a job. */
const LONG_POLL_MS = 10_000;
/** Shortest gap between slot ads sent because jobs started. */
export const AD_MIN_GAP_MS = 1000;
