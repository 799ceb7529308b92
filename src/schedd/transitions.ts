/**
 * Pure job-ad updates for each state change, with the bookkeeping attributes HTCondor keeps
 * (EnteredCurrentStatus, NumJobStarts, RemoteWallClockTime...). Each takes the current attributes
 * and `now` (ms) and returns new attributes; the queue commits them in one transaction.
 */
import { dynamicSlotName } from "../ads/slot.js";
import {
  HoldCode,
  JobStatus,
  deleteAttr,
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

function withStatus(attrs: JobAttrs, status: number, nowMs: number): JobAttrs {
  const out = { ...attrs };
  setAttr(out, "LastJobStatus", getAttr(attrs, "JobStatus") ?? "0");
  setAttr(out, "JobStatus", String(status));
  setAttr(out, "EnteredCurrentStatus", String(epochSeconds(nowMs)));
  return out;
}

export interface ClaimInfo {
  /** The (partitionable) slot's Name. */
  slotName: string;
  /** N > 0: the job runs in the slot's dynamic slot `slot1_N`, which RemoteHost names. */
  slotNumber?: number;
  /** The pilot's entry (GLIDEIN_Entry_Name of the slot), if it has one. */
  entryName?: string;
  /** Where the entry name is recorded on the job, for IdleSummary's running counts. */
  entryAttr: string;
}

/** Idle -> Running on a claim: HTCondor counts a start at the moment the job is handed out. */
export function claimedAttrs(attrs: JobAttrs, info: ClaimInfo, nowMs: number): JobAttrs {
  const out = withStatus(attrs, JobStatus.Running, nowMs);
  const t = String(epochSeconds(nowMs));
  setAttr(out, "NumJobStarts", String(numAttr(attrs, "NumJobStarts") + 1));
  setAttr(out, "JobCurrentStartDate", t);
  if (getAttr(attrs, "JobStartDate") === undefined) setAttr(out, "JobStartDate", t);
  setAttr(out, "RemoteHost", quote(remoteHost(info)));
  if (info.entryName !== undefined) setAttr(out, info.entryAttr, quote(info.entryName));
  return out;
}

/** The slot a running job names, as HTCondor's `slot1_N@host` for a partitionable slot's child. */
function remoteHost(info: ClaimInfo): string {
  const n = info.slotNumber ?? 0;
  return Number.isSafeInteger(n) && n > 0 ? dynamicSlotName(info.slotName, n) : info.slotName;
}

/** Leaving Running (any way): wall clock accounted, RemoteHost becomes LastRemoteHost. */
function stopRunning(attrs: JobAttrs, nowMs: number): JobAttrs {
  const out = { ...attrs };
  const started = numAttr(attrs, "JobCurrentStartDate", NaN);
  if (Number.isFinite(started)) {
    const wall = Math.max(0, epochSeconds(nowMs) - started);
    setAttr(out, "RemoteWallClockTime", String(numAttr(attrs, "RemoteWallClockTime") + wall));
    setAttr(out, "LastJobRunTime", String(wall));
  }
  const host = getAttr(attrs, "RemoteHost");
  if (host !== undefined) setAttr(out, "LastRemoteHost", host);
  deleteAttr(out, "RemoteHost");
  deleteAttr(out, "JobCurrentStartDate");
  return out;
}

/** Running -> Idle: the lease lapsed or the exit policy asked for another run. */
export function requeuedAttrs(attrs: JobAttrs, wasRunning: boolean, nowMs: number): JobAttrs {
  const base = wasRunning ? stopRunning(attrs, nowMs) : attrs;
  const out = withStatus(base, JobStatus.Idle, nowMs);
  deleteAttr(out, "HoldReason");
  deleteAttr(out, "HoldReasonCode");
  deleteAttr(out, "HoldReasonSubCode");
  return out;
}

/**
 * Running -> Idle because the pilot handed the job back (HTCondor's vacate): the run is
 * accounted, NumJobStarts keeps the start, and the reason stays on the ad for the user.
 */
export function vacatedAttrs(attrs: JobAttrs, reason: string, nowMs: number): JobAttrs {
  const out = requeuedAttrs(attrs, true, nowMs);
  setAttr(out, "VacateReason", quote(reason));
  setAttr(out, "LastVacateTime", String(epochSeconds(nowMs)));
  return out;
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
  const base = wasRunning ? stopRunning(attrs, nowMs) : attrs;
  const out = withStatus(base, JobStatus.Held, nowMs);
  setAttr(out, "HoldReason", quote(hold.reason));
  setAttr(out, "HoldReasonCode", String(hold.code));
  setAttr(out, "HoldReasonSubCode", String(hold.subcode ?? 0));
  setAttr(out, "NumHolds", String(numAttr(attrs, "NumHolds") + 1));
  return out;
}

export function userHold(reason: string | undefined, by: string): HoldInfo {
  return { reason: reason || `via updraft hold (by user ${by})`, code: HoldCode.UserRequest };
}

export function releasedAttrs(attrs: JobAttrs, nowMs: number): JobAttrs {
  const out = requeuedAttrs(attrs, false, nowMs);
  setAttr(out, "LastHoldReason", getAttr(attrs, "HoldReason") ?? '""');
  // Released by a user who fixed the inputs: the job gets its tries again.
  if (getAttr(attrs, "NumInputTransferFailures") !== undefined) {
    setAttr(out, "NumInputTransferFailures", "0");
  }
  return out;
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
  const failures = numAttr(attrs, "NumInputTransferFailures") + 1;
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
    setAttr(held, "NumInputTransferFailures", String(failures));
    return { status: JobStatus.Held, attrs: held };
  }
  const idle = vacatedAttrs(attrs, reason, nowMs);
  setAttr(idle, "NumInputTransferFailures", String(failures));
  return { status: JobStatus.Idle, attrs: idle };
}

export function removedAttrs(
  attrs: JobAttrs,
  wasRunning: boolean,
  reason: string,
  nowMs: number,
): JobAttrs {
  const base = wasRunning ? stopRunning(attrs, nowMs) : attrs;
  const out = withStatus(base, JobStatus.Removed, nowMs);
  setAttr(out, "RemoveReason", quote(reason));
  return out;
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
  const out = stopRunning(attrs, nowMs);
  setAttr(out, "ExitBySignal", String(exit.exitBySignal));
  if (exit.exitBySignal) {
    setAttr(out, "ExitSignal", String(exit.exitSignal));
    deleteAttr(out, "ExitCode");
  } else {
    setAttr(out, "ExitCode", String(exit.exitCode));
    deleteAttr(out, "ExitSignal");
  }
  setAttr(out, "NumJobCompletions", String(numAttr(attrs, "NumJobCompletions") + 1));
  setAttr(out, "RemoteUserCpu", String(numAttr(attrs, "RemoteUserCpu") + exit.cpuUser));
  setAttr(out, "RemoteSysCpu", String(numAttr(attrs, "RemoteSysCpu") + exit.cpuSys));
  return out;
}

export function completedAttrs(attrs: JobAttrs, nowMs: number): JobAttrs {
  const out = withStatus(attrs, JobStatus.Completed, nowMs);
  setAttr(out, "CompletionDate", String(epochSeconds(nowMs)));
  return out;
}
