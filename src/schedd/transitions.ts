/**
 * Pure job-ad updates for each state change, with the bookkeeping attributes HTCondor keeps
 * (EnteredCurrentStatus, NumJobStarts, RemoteWallClockTime...). Each takes the current attributes
 * and `now` (ms) and returns new attributes; the queue commits them in one transaction.
 */
import { JOB } from "../ads/names.js";
import { dynamicSlotName } from "../ads/slot.js";
import { AttrChanges } from "./attr-changes.js";
import {
  HoldCode,
  JobStatus,
  getAttr,
  numAttr,
  quote,
  setAttr,
  type JobAttrs,
  type JobStatusCode,
} from "./job-status.js";

/** HTCondor times are whole seconds since the epoch. */
export function epochSeconds(nowMs: number): number {
  return Math.floor(nowMs / 1000);
}

/** The status change every transition makes, from the ad as it was. */
function statusChanges(
  attrs: JobAttrs,
  status: number,
  nowMs: number,
  c = new AttrChanges(),
): AttrChanges {
  return c
    .set(JOB.LastJobStatus, getAttr(attrs, JOB.JobStatus) ?? "0")
    .set(JOB.JobStatus, String(status))
    .set(JOB.EnteredCurrentStatus, String(epochSeconds(nowMs)));
}

export interface ClaimInfo {
  /** The (partitionable) slot's Name. */
  slotName: string;
  /** N > 0: the job runs in the slot's dynamic slot `slot1_N`, which RemoteHost names. */
  slotNumber?: number;
  /** The pilot's entry (GLIDEIN_Entry_Name of the slot), if it has one. */
  entryName?: string;
  /** The pilot's factory (GLIDEIN_Factory of the slot), if it has one. */
  factoryName?: string;
  /** Where the entry name is recorded on the job, for IdleSummary's running counts. */
  entryAttr: string;
}

/**
 * Idle -> Running on a claim: HTCondor counts a start at the moment the job is handed out.
 * `matched` (the match-time attributes, as the job spells them) is set first, so the claim's
 * own attributes win over any of the same name.
 */
export function claimedAttrs(
  attrs: JobAttrs,
  info: ClaimInfo,
  nowMs: number,
  matched: readonly (readonly [string, string])[] = [],
): JobAttrs {
  const c = new AttrChanges();
  for (const [name, text] of matched) c.set(name, text);
  statusChanges(attrs, JobStatus.Running, nowMs, c);
  const t = String(epochSeconds(nowMs));
  c.set(JOB.NumJobStarts, String(numAttr(attrs, JOB.NumJobStarts) + 1));
  c.set(JOB.JobCurrentStartDate, t);
  if (getAttr(attrs, JOB.JobStartDate) === undefined) c.set(JOB.JobStartDate, t);
  c.set(JOB.RemoteHost, quote(remoteHost(info)));
  if (info.entryName !== undefined) c.set(info.entryAttr, quote(info.entryName));
  // Always set or cleared: a run must not be charged to the factory of an earlier one.
  if (info.factoryName !== undefined) c.set(JOB.MatchGlideinFactory, quote(info.factoryName));
  else c.delete(JOB.MatchGlideinFactory);
  return c.applyTo(attrs);
}

/** The slot a running job names, as HTCondor's `slot1_N@host` for a partitionable slot's child. */
function remoteHost(info: ClaimInfo): string {
  const n = info.slotNumber ?? 0;
  return Number.isSafeInteger(n) && n > 0 ? dynamicSlotName(info.slotName, n) : info.slotName;
}

/** Leaving Running (any way): wall clock accounted, RemoteHost becomes LastRemoteHost. */
function stopRunning(attrs: JobAttrs, nowMs: number, c: AttrChanges): AttrChanges {
  const started = numAttr(attrs, JOB.JobCurrentStartDate, NaN);
  if (Number.isFinite(started)) {
    // As HTCondor's JobLastStartDate: when the run that just ended began (the user log's 001).
    c.set(JOB.JobLastStartDate, String(started));
    const wall = Math.max(0, epochSeconds(nowMs) - started);
    c.set(JOB.RemoteWallClockTime, String(numAttr(attrs, JOB.RemoteWallClockTime) + wall));
    c.set(JOB.LastJobRunTime, String(wall));
  }
  const host = getAttr(attrs, JOB.RemoteHost);
  if (host !== undefined) c.set(JOB.LastRemoteHost, host);
  return c.delete(JOB.RemoteHost).delete(JOB.JobCurrentStartDate);
}

/** The changes of Running/Held -> Idle. */
function requeueChanges(attrs: JobAttrs, wasRunning: boolean, nowMs: number): AttrChanges {
  const c = statusChanges(attrs, JobStatus.Idle, nowMs);
  if (wasRunning) stopRunning(attrs, nowMs, c);
  return c.delete(JOB.HoldReason).delete(JOB.HoldReasonCode).delete(JOB.HoldReasonSubCode);
}

/** Running -> Idle: the lease lapsed or the exit policy asked for another run. */
export function requeuedAttrs(attrs: JobAttrs, wasRunning: boolean, nowMs: number): JobAttrs {
  return requeueChanges(attrs, wasRunning, nowMs).applyTo(attrs);
}

/**
 * Running -> Idle because the pilot handed the job back (HTCondor's vacate): the run is
 * accounted, NumJobStarts keeps the start, and the reason stays on the ad for the user.
 */
export function vacatedAttrs(attrs: JobAttrs, reason: string, nowMs: number): JobAttrs {
  return requeueChanges(attrs, true, nowMs)
    .set(JOB.VacateReason, quote(reason))
    .set(JOB.LastVacateTime, String(epochSeconds(nowMs)))
    .applyTo(attrs);
}

export interface HoldInfo {
  reason: string;
  code: number;
  subcode?: number;
}

export function heldAttrs(
  attrs: JobAttrs,
  wasRunning: boolean,
  hold: HoldInfo,
  nowMs: number,
): JobAttrs {
  const c = statusChanges(attrs, JobStatus.Held, nowMs);
  if (wasRunning) stopRunning(attrs, nowMs, c);
  return c
    .set(JOB.HoldReason, quote(hold.reason))
    .set(JOB.HoldReasonCode, String(hold.code))
    .set(JOB.HoldReasonSubCode, String(hold.subcode ?? 0))
    .set(JOB.NumHolds, String(numAttr(attrs, JOB.NumHolds) + 1))
    .applyTo(attrs);
}

export function userHold(reason: string | undefined, by: string): HoldInfo {
  return { reason: reason || `via updraft hold (by user ${by})`, code: HoldCode.UserRequest };
}

export function releasedAttrs(attrs: JobAttrs, reason: string, nowMs: number): JobAttrs {
  const c = requeueChanges(attrs, false, nowMs);
  c.set(JOB.LastHoldReason, getAttr(attrs, JOB.HoldReason) ?? '""');
  c.set(JOB.ReleaseReason, quote(reason));
  // Released by a user who fixed the inputs: the job gets its tries again.
  if (getAttr(attrs, JOB.NumInputTransferFailures) !== undefined) {
    c.set(JOB.NumInputTransferFailures, "0");
  }
  return c.applyTo(attrs);
}

/**
 * A pilot handed the job back because its inputs did not arrive: counted, and held as HTCondor
 * holds a job whose input transfer fails once it has failed `max` times (the files are likely
 * gone or unreadable, not the pilot's node at fault), else Idle again for another pilot.
 */
export function inputTransferFailedAttrs(
  attrs: JobAttrs,
  reason: string,
  max: number,
  nowMs: number,
): { status: JobStatusCode; attrs: JobAttrs } {
  const failures = numAttr(attrs, JOB.NumInputTransferFailures) + 1;
  if (failures >= max) {
    const held = heldAttrs(
      attrs,
      true,
      {
        reason: `input files could not be transferred (${failures} tries): ${reason}`,
        code: HoldCode.TransferInputError,
      },
      nowMs,
    );
    setAttr(held, JOB.NumInputTransferFailures, String(failures));
    return { status: JobStatus.Held, attrs: held };
  }
  const idle = vacatedAttrs(attrs, reason, nowMs);
  setAttr(idle, JOB.NumInputTransferFailures, String(failures));
  return { status: JobStatus.Idle, attrs: idle };
}

export function removedAttrs(
  attrs: JobAttrs,
  wasRunning: boolean,
  reason: string,
  nowMs: number,
): JobAttrs {
  const c = statusChanges(attrs, JobStatus.Removed, nowMs);
  if (wasRunning) stopRunning(attrs, nowMs, c);
  return c.set(JOB.RemoveReason, quote(reason)).applyTo(attrs);
}

/** How a job's run ended, as the pilot reports it. */
export interface ExitInfo {
  exitBySignal: boolean;
  exitCode: number;
  exitSignal: number;
  /** CPU seconds of the job, user and system. */
  cpuUser: number;
  cpuSys: number;
  /** The pilot could not run the job as asked: hold it rather than complete it. */
  hold?: HoldInfo;
}

/** The exit recorded on the ad (before the exit policy looks at it); still Running. */
export function exitedAttrs(attrs: JobAttrs, exit: ExitInfo, nowMs: number): JobAttrs {
  const c = stopRunning(attrs, nowMs, new AttrChanges());
  c.set(JOB.ExitBySignal, String(exit.exitBySignal));
  if (exit.exitBySignal) c.set(JOB.ExitSignal, String(exit.exitSignal)).delete(JOB.ExitCode);
  else c.set(JOB.ExitCode, String(exit.exitCode)).delete(JOB.ExitSignal);
  return c
    .set(JOB.NumJobCompletions, String(numAttr(attrs, JOB.NumJobCompletions) + 1))
    .set(JOB.RemoteUserCpu, String(numAttr(attrs, JOB.RemoteUserCpu) + exit.cpuUser))
    .set(JOB.RemoteSysCpu, String(numAttr(attrs, JOB.RemoteSysCpu) + exit.cpuSys))
    .applyTo(attrs);
}

export function completedAttrs(attrs: JobAttrs, nowMs: number): JobAttrs {
  return statusChanges(attrs, JobStatus.Completed, nowMs)
    .set(JOB.CompletionDate, String(epochSeconds(nowMs)))
    .applyTo(attrs);
}
