/**
 * HTCondor's job event log ("user log", `log = FILE`) in its text format, so HTCondor's log
 * readers and `tail -f` scripts read it: each event is `NNN (CCC.PPP.000) YYYY-MM-DD HH:MM:SS
 * text`, tab-indented detail lines, then a line `...`. Times are local, as HTCondor writes them.
 *
 * The log is written on the submit side by the client commands, so it lands at the path the
 * submit file named even when the schedd runs elsewhere: `updraft submit` writes 000, and
 * `updraft wait` appends the events it sees in the jobs' ads (001 executing, 004 evicted, 005
 * terminated, 009 aborted, 012 held, 013 released). Events already in the file are not written
 * twice. Pure except `appendEvents`.
 */
import { closeSync, constants, openSync, writeSync } from "node:fs";
import { JOB } from "../ads/names.js";
import type { JobAttrs } from "../schedd/job-status.js";
import { readBoundedText } from "../common/bounded-read.js";
import { hasErrorCode, UpdraftError } from "../common/errors.js";

/** A job's `log` names a file that is there and is not a job event log: it is left alone. */
export class NotAUserLogError extends UpdraftError {
  readonly code = "user-log-foreign";
  override name = "NotAUserLogError";
}

/** Largest job event log read back (to skip events it holds, or find its jobs). */
export const MAX_USER_LOG_BYTES = 256 << 20;

export interface UserLogEvent {
  code: number;
  cluster: number;
  proc: number;
  /** Seconds since the epoch. */
  time: number;
  /** The rest of the header line. */
  text: string;
  /** Detail lines, without their leading tab. */
  details: string[];
}

const pad = (n: number, w: number) => String(n).padStart(w, "0");

function localTime(s: number): string {
  const d = new Date(s * 1000);
  return (
    `${d.getFullYear()}-${pad(d.getMonth() + 1, 2)}-${pad(d.getDate(), 2)} ` +
    `${pad(d.getHours(), 2)}:${pad(d.getMinutes(), 2)}:${pad(d.getSeconds(), 2)}`
  );
}

/** One line each: a reason with a newline (or a lone `...`) must not end the event early. */
const oneLine = (s: string) => s.replace(/[\r\n]+/g, " ");

export function formatEvent(e: UserLogEvent): string {
  const head = `${pad(e.code, 3)} (${pad(e.cluster, 3)}.${pad(e.proc, 3)}.000) ${localTime(e.time)} ${e.text}`;
  return [oneLine(head), ...e.details.map((l) => `\t${oneLine(l)}`), "..."].join("\n") + "\n";
}

const HEADER = /^(\d{3}) \((\d+)\.(\d+)\.(\d+)\) (\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d) (.*)$/;

/** Events of a log's text; a torn last event (no `...` yet) is left out. */
export function parseUserLog(text: string): UserLogEvent[] {
  const events: UserLogEvent[] = [];
  let cur: UserLogEvent | undefined;
  for (const line of text.split("\n")) {
    if (cur === undefined) {
      const m = HEADER.exec(line);
      if (!m) continue;
      const [y, mo, d, h, mi, s] = m.slice(5, 11).map(Number) as number[];
      const time = new Date(y!, mo! - 1, d!, h!, mi!, s!).getTime() / 1000;
      cur = {
        code: Number(m[1]),
        cluster: Number(m[2]),
        proc: Number(m[3]),
        time,
        text: m[11]!,
        details: [],
      };
    } else if (line === "...") {
      events.push(cur);
      cur = undefined;
    } else cur.details.push(line.replace(/^\t/, ""));
  }
  return events;
}

const unquote = (v: string | undefined) =>
  v?.startsWith('"') ? (JSON.parse(v) as string) : (v ?? "");
const num = (v: string | undefined) => (v === undefined || v === "" ? undefined : Number(v));

function usage(s: number): string {
  const t = Math.round(s);
  const d = Math.floor(t / 86400);
  return `${d} ${pad(Math.floor((t % 86400) / 3600), 2)}:${pad(Math.floor((t % 3600) / 60), 2)}:${pad(t % 60, 2)}`;
}

const ZERO_USAGE = `Usr ${usage(0)}, Sys ${usage(0)}`;

/**
 * When the job's current or last run began: the schedd drops JobCurrentStartDate when a run
 * ends and keeps its start in JobLastStartDate. An ad from before JobLastStartDate was kept
 * gives it from when the run ended and LastJobRunTime, how long it lasted.
 */
function startOf(ad: JobAttrs, status: number | undefined, entered: number | undefined) {
  const current = num(ad[JOB.JobCurrentStartDate]) ?? num(ad[JOB.JobLastStartDate]);
  if (current !== undefined) return current;
  const ran = num(ad[JOB.LastJobRunTime]);
  if (ran === undefined) return undefined;
  const ended =
    status === 1 ? num(ad[JOB.LastVacateTime]) : (num(ad[JOB.CompletionDate]) ?? entered);
  return ended === undefined ? undefined : ended - ran;
}

/** The events a job's ad shows, in time order: what can be read from its current state. */
export function eventsFromAd(ad: JobAttrs, submitHost = "localhost"): UserLogEvent[] {
  const cluster = Number(ad[JOB.ClusterId]);
  const proc = Number(ad[JOB.ProcId]);
  const ev = (code: number, time: number | undefined, text: string, details: string[] = []) =>
    time === undefined || !Number.isFinite(time)
      ? undefined
      : { code, cluster, proc, time, text, details };
  const status = num(ad[JOB.JobStatus]);
  const entered = num(ad[JOB.EnteredCurrentStatus]);
  const host = unquote(ad[JOB.RemoteHost]) || unquote(ad[JOB.LastRemoteHost]);
  const all = [
    ev(0, num(ad[JOB.QDate]), `Job submitted from host: <${submitHost}>`),
    // HTCondor's readers take an evicted event only with its two usage and two byte lines.
    ev(4, num(ad[JOB.LastVacateTime]), "Job was evicted.", [
      "(0) CPU times",
      `\t${ZERO_USAGE}  -  Run Remote Usage`,
      `\t${ZERO_USAGE}  -  Run Local Usage`,
      "0  -  Run Bytes Sent By Job",
      "0  -  Run Bytes Received By Job",
      ...(ad[JOB.VacateReason] ? [`Reason: ${unquote(ad[JOB.VacateReason])}`] : []),
    ]),
    ev(1, startOf(ad, status, entered), `Job executing on host: <${host}>`, [
      ...(host ? [`SlotName: ${host}`] : []),
    ]),
  ];
  if (status === 5) {
    all.push(
      ev(12, entered, "Job was held.", [
        unquote(ad[JOB.HoldReason]),
        `Code ${ad[JOB.HoldReasonCode] ?? 0} Subcode ${ad[JOB.HoldReasonSubCode] ?? 0}`,
      ]),
    );
  } else if (ad[JOB.LastJobStatus] === "5" && status === 1) {
    all.push(
      ev(13, entered, "Job was released.", [
        unquote(ad[JOB.ReleaseReason]) || "via updraft release",
      ]),
    );
  } else if (status === 4) {
    const user = num(ad[JOB.RemoteUserCpu]) ?? 0;
    const sys = num(ad[JOB.RemoteSysCpu]) ?? 0;
    const bySignal = ad[JOB.ExitBySignal] === "true";
    const term = bySignal
      ? [`(0) Abnormal termination (signal ${ad[JOB.ExitSignal] ?? 0})`, "(0) No core file"]
      : [`(1) Normal termination (return value ${ad[JOB.ExitCode] ?? 0})`];
    const u = `Usr ${usage(user)}, Sys ${usage(sys)}`;
    all.push(
      ev(5, num(ad[JOB.CompletionDate]) ?? entered, "Job terminated.", [
        ...term,
        `\t${u}  -  Run Remote Usage`,
        `\t${ZERO_USAGE}  -  Run Local Usage`,
        `\t${u}  -  Total Remote Usage`,
        `\t${ZERO_USAGE}  -  Total Local Usage`,
        "0  -  Run Bytes Sent By Job",
        "0  -  Run Bytes Received By Job",
        "0  -  Total Bytes Sent By Job",
        "0  -  Total Bytes Received By Job",
      ]),
    );
  } else if (status === 3) {
    all.push(
      ev(9, entered, "Job was aborted.", [unquote(ad[JOB.RemoveReason]) || "via updraft rm"]),
    );
  }
  return all.filter((e): e is UserLogEvent => e !== undefined).sort((a, b) => a.time - b.time);
}

/** The attributes `eventsFromAd` reads, for a query's projection. */
export const USER_LOG_ATTRS = [
  JOB.ClusterId,
  JOB.ProcId,
  JOB.UserLog,
  JOB.JobStatus,
  JOB.LastJobStatus,
  JOB.EnteredCurrentStatus,
  JOB.QDate,
  JOB.JobCurrentStartDate,
  JOB.JobLastStartDate,
  JOB.LastJobRunTime,
  JOB.RemoteHost,
  JOB.LastRemoteHost,
  JOB.LastVacateTime,
  JOB.VacateReason,
  JOB.HoldReason,
  JOB.HoldReasonCode,
  JOB.HoldReasonSubCode,
  JOB.ReleaseReason,
  JOB.CompletionDate,
  JOB.ExitCode,
  JOB.ExitBySignal,
  JOB.ExitSignal,
  JOB.RemoteUserCpu,
  JOB.RemoteSysCpu,
  JOB.RemoveReason,
];

/** Submitted, terminated and aborted happen once per job; the others once per time. */
const keyOf = (e: UserLogEvent) =>
  [0, 5, 9].includes(e.code)
    ? `${e.code} ${e.cluster}.${e.proc}`
    : `${e.code} ${e.cluster}.${e.proc} ${e.time}`;

/**
 * Append to `path` the events not already in it; returns how many were written. The file is
 * opened without following a link, created 0600.
 */
export function appendEvents(path: string, events: readonly UserLogEvent[]): number {
  let existing = "";
  try {
    existing = readBoundedText(path, MAX_USER_LOG_BYTES);
  } catch (err) {
    if (hasErrorCode(err, "file-too-large")) throw err;
    // a new log
  }
  // Only a job event log is appended to: a job ad naming some other file (~/.bashrc) gets nothing.
  if (existing !== "" && !HEADER.test(existing.split("\n", 1)[0]!)) {
    throw new NotAUserLogError(`${path} exists and is not a job event log; not appending to it`);
  }
  const seen = new Set(parseUserLog(existing).map(keyOf));
  const fresh = events.filter((e) => !seen.has(keyOf(e)));
  if (fresh.length === 0) return 0;
  const flags = constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW;
  const fd = openSync(path, flags, 0o600);
  try {
    writeSync(fd, fresh.map(formatEvent).join(""));
  } finally {
    closeSync(fd);
  }
  return fresh.length;
}
