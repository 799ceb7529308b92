/**
 * The pilot loop's state and the decisions over it, without IO: a claimed job taking its share of
 * the slot, what a job's end means (its record, the idle clock, the black-hole detector, a failed
 * hook) and what then goes back to its schedd, what a heartbeat's answer means for a lease, and
 * what the turn planner (pilot-step.ts) is told. pilot-apply.ts does the IO; run-pilot.ts loops.
 */
import { join } from "node:path";
import { type BlackHolePolicy, createBlackHoleDetector } from "./black-hole.js";
import { createGpuAssignment } from "./gpu-assignment.js";
import { heartbeatDelay, type HeartbeatPolicy } from "./heartbeat-schedule.js";
import type { JobLease, JobSource, LeaseVerdict } from "./interfaces.js";
import { createResourceLedger, type Resources } from "./ledger.js";
import type { LifetimePlan } from "./lifetime.js";
import type { Turn, TurnInputs, WaitInputs } from "./pilot-step.js";
import type { JobDisposition, JobRecord } from "./report.js";
import { requestOf } from "./runner/job-spec.js";
import type { JobOutcome, KillKind, RunningJob } from "./runner/run-job.js";

export interface ActiveJob {
  lease: JobLease;
  source: JobSource;
  job: RunningJob;
  /** The job's sandbox, `dir_N`; N also names its dynamic slot, `slot1_N`. */
  dir: string;
  n: number;
  /** The GPUs it holds, by name (`CUDA0`...); see gpu-assignment.ts. */
  gpus: string[];
  startedAt: number;
  /** When the lease runs out on the pilot's clock, as far as the schedd last said. */
  leaseEndsAt: number | undefined;
  nextHeartbeatAt: number;
  stopping: boolean;
  /** Why the pilot stopped the job: the schedd records it as the job's VacateReason. */
  stopReason?: string;
  /** The schedd gave the job to someone else: nothing to report back for it. */
  leaseLost?: boolean;
  /** The job never started for a reason of the pilot's, not the job's: give it back. */
  handBack?: boolean;
  /** Handed back because its input files did not arrive. */
  inputTransferFailed?: boolean;
}

export function createPilotState(
  plan: LifetimePlan,
  resources: Resources,
  blackHole: BlackHolePolicy | undefined,
  nowMs: number,
  /** The node's GPUs by name, as many as `resources.gpus` at most. */
  gpuNames: readonly string[] = [],
) {
  return {
    /** Changes only when the site announces a shutdown (see machine-features.ts). */
    plan,
    /** The stop-jobs-to-die gap the pilot started with, kept when draining. */
    graceMs: plan.dieAtMs - plan.stopJobsAtMs,
    ledger: createResourceLedger(resources),
    gpus: createGpuAssignment(gpuNames.slice(0, resources.gpus)),
    /** Whether jobs are kept to their own GPUs: the node has some to keep them from. */
    hasGpus: resources.gpus > 0 || gpuNames.length > 0,
    blackHole: createBlackHoleDetector(blackHole ?? NO_BLACK_HOLE_CHECK),
    /** Whether slot ads say `GLIDEIN_BLACKHOLE` at all: only with detection on. */
    blackHoleChecked: blackHole !== undefined && blackHole.rate > 0,
    active: new Map<string, ActiveJob>(),
    records: [] as JobRecord[],
    lastJobEndMs: undefined as number | undefined,
    idleMs: 0,
    /** Since when no job has run; undefined while one does. */
    idleSince: nowMs as number | undefined,
    lastAdvertised: -Infinity,
    /** Advertisements failed or refused in a row, and when the next try is due after them. */
    adFailures: 0,
    adRetryAt: undefined as number | undefined,
    /** A job started since the last slot ad: the collector hears of it soon. */
    adStale: false,
    /** What the collector was last told: retired, and whether the black hole was announced. */
    retired: false,
    holeAdvertised: false,
    /** Why a job hook failed, once one did: the node takes no more jobs. */
    hookFault: undefined as string | undefined,
    /** Where the next claim round starts, so that each schedd is asked first in turn. */
    nextSource: 0,
    /** Sandboxes are numbered in claim order. */
    seq: 0,
    /** Jobs (by N) whose dynamic slot the collector holds. */
    childrenAdvertised: new Set<number>(),
    /** Dynamic slots of ended jobs still to withdraw from the collector. */
    childrenToWithdraw: [] as number[],
    nextFeaturesCheck: nowMs,
  };
}

export type PilotState = ReturnType<typeof createPilotState>;

/**
 * A claimed job takes its share of the slot and ends the idle spell; undefined when it does not
 * fit what is left (the lease then goes back).
 */
export function jobClaimed(
  s: PilotState,
  lease: JobLease,
  source: JobSource,
  executeDir: string,
  nowMs: number,
  hb: HeartbeatPolicy,
): ActiveJob | undefined {
  const req = requestOf(lease.ad);
  if (!s.ledger.reserve(lease.jobId, req).ok) return undefined;
  if (s.idleSince !== undefined) s.idleMs += nowMs - s.idleSince;
  s.idleSince = undefined;
  const n = ++s.seq;
  const a: ActiveJob = {
    lease,
    source,
    dir: join(executeDir, `dir_${n}`),
    n,
    gpus: s.gpus.assign(lease.jobId, req.gpus),
    startedAt: nowMs,
    leaseEndsAt: lease.leaseMs === undefined ? undefined : nowMs + lease.leaseMs,
    nextHeartbeatAt: nowMs + heartbeatDelay(lease.leaseMs, hb),
    stopping: false,
    job: NOT_STARTED,
  };
  s.active.set(lease.jobId, a);
  return a;
}

/**
 * The dynamic slots just sent: those of jobs that ended while the ads were on their way are
 * withdrawn at once, the others are now the collector's.
 */
export function childrenSent(s: PilotState, sent: readonly number[]): void {
  const running = new Set([...s.active.values()].map((a) => a.n));
  for (const n of sent) {
    if (running.has(n)) s.childrenAdvertised.add(n);
    else if (!s.childrenToWithdraw.includes(n)) s.childrenToWithdraw.push(n);
  }
}

/** What a job's end meant beyond its record, for the log. */
export interface JobEnd {
  disposition: JobDisposition;
  /** The node's first failed job hook, when this job's was: the pilot ends. */
  firstHookFault?: string;
  /** Why the black-hole detector tripped, when this job's end tripped it. */
  blackHoleTripped?: string;
}

export function jobEnded(s: PilotState, a: ActiveJob, outcome: JobOutcome, nowMs: number): JobEnd {
  s.active.delete(a.lease.jobId);
  s.ledger.release(a.lease.jobId);
  s.gpus.release(a.lease.jobId);
  if (s.childrenAdvertised.delete(a.n)) s.childrenToWithdraw.push(a.n);
  s.lastJobEndMs = nowMs;
  // The slot's free resources and State changed: the collector hears of it within a second,
  // not at the next periodic refresh.
  s.adStale = true;
  if (s.active.size === 0) s.idleSince = nowMs;
  // Ended by the pilot's own stop, even if it then exited cleanly, or never started for the
  // pilot's own reasons: the job goes back to the queue.
  const released = a.handBack === true || outcome.killed?.kind === "pilot-stop";
  let firstHookFault: string | undefined;
  if (outcome.nodeFault) {
    // The node's own hook failed: the job goes back, and this node takes no more.
    a.stopReason ??= outcome.nodeFault;
    if (!s.hookFault) firstHookFault = outcome.nodeFault;
    s.hookFault ??= outcome.nodeFault;
  }
  let blackHoleTripped: string | undefined;
  if (!released && !s.blackHole.tripped) {
    s.blackHole.jobEnded(a.startedAt, nowMs);
    blackHoleTripped = s.blackHole.tripped;
  }
  const disposition: JobDisposition = released
    ? "released"
    : outcome.startError
      ? "start-failed"
      : outcome.killed
        ? "killed"
        : "completed";
  s.records.push({
    jobId: a.lease.jobId,
    schedd: a.source.name,
    startedAt: new Date(a.startedAt).toISOString(),
    disposition,
    exitCode: outcome.exitCode,
    signal: outcome.signal,
    wallS: outcome.wallS,
    userS: outcome.userS,
    sysS: outcome.sysS,
    peakRssMb: outcome.peakRssMb,
    ...(outcome.killed?.holdReason ? { holdReason: outcome.killed.holdReason } : {}),
  });
  return {
    disposition,
    ...(firstHookFault ? { firstHookFault } : {}),
    ...(blackHoleTripped ? { blackHoleTripped } : {}),
  };
}

export type JobReport =
  | { kind: "none" }
  | { kind: "release"; reason: string; inputTransferFailed: boolean }
  | { kind: "complete" };

/**
 * What goes back to the schedd for an ended job. Asked when the report goes out, not when the
 * job ended: a heartbeat answered meanwhile may have said the lease is gone.
 */
export function jobReport(a: ActiveJob, disposition: JobDisposition): JobReport {
  if (a.leaseLost) return { kind: "none" };
  if (disposition !== "released") return { kind: "complete" };
  return {
    kind: "release",
    reason: a.stopReason ?? "pilot stopping",
    inputTransferFailed: a.inputTransferFailed === true,
  };
}

/** Time left on a job's lease by the pilot's clock, if the schedd said how long it lasts. */
const leaseLeft = (a: ActiveJob, nowMs: number) =>
  a.leaseEndsAt === undefined ? undefined : a.leaseEndsAt - nowMs;

/**
 * A heartbeat's answer: the lease's new end and the next heartbeat; the kill it calls for, if any.
 */
export function heartbeatAnswered(
  a: ActiveJob,
  v: LeaseVerdict,
  nowMs: number,
  hb: HeartbeatPolicy,
): { kind: KillKind; reason: string } | undefined {
  if (v.action === "continue" && v.leaseMs !== undefined) a.leaseEndsAt = nowMs + v.leaseMs;
  a.nextHeartbeatAt = nowMs + heartbeatDelay(leaseLeft(a, nowMs), hb);
  if (v.action === "remove") return { kind: "removed", reason: v.reason };
  if (v.action === "hold") return { kind: "held", reason: v.reason };
  if (v.action === "lost") {
    a.leaseLost = true;
    return { kind: "removed", reason: "lease lost" };
  }
  return undefined;
}

/**
 * The schedd may be restarting: the job keeps running; the next try comes sooner as the lease
 * nears its end (a fraction of what is left), down to the floor.
 */
export function heartbeatFailed(a: ActiveJob, nowMs: number, hb: HeartbeatPolicy): void {
  a.nextHeartbeatAt = nowMs + heartbeatDelay(leaseLeft(a, nowMs), hb);
}

export function heartbeatDue(a: ActiveJob, nowMs: number): boolean {
  return !a.stopping && nowMs >= a.nextHeartbeatAt;
}

/** What the turn planner is told of the pilot's state. */
export function turnInputs(
  s: PilotState,
  nowMs: number,
  terminated: boolean | undefined,
  shutdownMs: number | undefined,
): TurnInputs {
  return {
    plan: s.plan,
    nowMs,
    runningJobs: s.active.size,
    lastJobEndMs: s.lastJobEndMs,
    terminated,
    shutdownMs,
    graceMs: s.graceMs,
    blackHole: s.blackHole.tripped,
    hookFault: s.hookFault,
    advertisedRetired: s.retired,
    advertisedBlackHole: s.holeAdvertised,
  };
}

/** The turn's plan and what the collector is about to be told become the state. */
export function turnTaken(s: PilotState, turn: Turn): void {
  s.plan = turn.plan;
  s.retired = turn.advertisedRetired;
  s.holeAdvertised = turn.advertisedBlackHole;
}

/** Marks the running jobs stopping, with the reason the schedd records; returns them to kill. */
export function stopping(s: PilotState, reason: string): ActiveJob[] {
  const stopped: ActiveJob[] = [];
  for (const a of s.active.values()) {
    if (a.stopping) continue;
    a.stopping = true;
    a.stopReason = reason;
    stopped.push(a);
  }
  return stopped;
}

/** What the loop's sleep waits for, besides the lifetime plan's next change. */
export function waitInputs(
  s: PilotState,
  nowMs: number,
  x: { nextChangeInMs: number; retryMs: number; advertiseEveryMs: number; adMinGapMs: number },
  reportsPending: boolean,
  featuresChecked: boolean,
): WaitInputs {
  return {
    nextChangeInMs: x.nextChangeInMs,
    retryMs: x.retryMs,
    advertiseEveryMs: x.advertiseEveryMs,
    adDueInMs: adDueInMs(s, nowMs, x.adMinGapMs),
    heartbeatsInMs: [...s.active.values()]
      .filter((a) => !a.stopping)
      .map((a) => a.nextHeartbeatAt - nowMs),
    reportsPending,
    featuresCheckInMs: featuresChecked ? s.nextFeaturesCheck - nowMs : undefined,
  };
}

/** Until a slot ad is due for a job started, or for a retry; undefined when none is. */
function adDueInMs(s: PilotState, nowMs: number, adMinGapMs: number): number | undefined {
  const waits: number[] = [];
  if (s.adStale) waits.push(adMinGapMs - (nowMs - s.lastAdvertised));
  if (s.adRetryAt !== undefined) waits.push(s.adRetryAt - nowMs);
  return waits.length === 0 ? undefined : Math.min(...waits);
}

/** The collector took the slot's ads and every withdrawal: no retry is due. */
export function adTaken(s: PilotState): void {
  s.adFailures = 0;
  s.adRetryAt = undefined;
}

/**
 * An advertisement or withdrawal failed or was refused: tried again after a short backoff (1 s,
 * doubling, at most AD_RETRY_MAX_MS and never later than the next periodic advertisement), not
 * a whole interval later with the collector holding a stale slot.
 */
export function adFailed(s: PilotState, nowMs: number, advertiseEveryMs: number): void {
  s.adFailures++;
  const backoff = AD_RETRY_FIRST_MS * 2 ** Math.min(s.adFailures - 1, 16);
  s.adRetryAt = nowMs + Math.min(backoff, AD_RETRY_MAX_MS, advertiseEveryMs);
}

export const AD_RETRY_FIRST_MS = 1000;
export const AD_RETRY_MAX_MS = 30_000;

/** The idle spell still open when the pilot ends counts too. */
export function idleSeconds(s: PilotState, nowMs: number): number {
  return (s.idleMs + (s.idleSince === undefined ? 0 : nowMs - s.idleSince)) / 1000;
}

const NO_BLACK_HOLE_CHECK: BlackHolePolicy = { numJobs: 0, rate: 0, windowMs: 0 };

const NOT_STARTED: RunningJob = {
  jobId: "",
  pid: undefined,
  kill: () => {},
  done: new Promise(() => {}),
};
