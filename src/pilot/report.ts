/**
 * The pilot's final report: JSON for the factory, between stable marker lines on stdout (and in a
 * file), with a short human summary. The factory finds it in a pilot's output with
 * `parsePilotOutput`, which tolerates output cut off anywhere.
 */
import type { FailureClass, PilotFailure } from "./failure.js";
import type { ExitReason } from "./lifetime.js";

export const REPORT_VERSION = 1;
export const REPORT_BEGIN = "=== Pilot report begin ===";
export const REPORT_END = "=== Pilot report end ===";
const STARTING = /^=== Pilot starting (\S+) ===$/;
const ENDING = /^=== Pilot ending (\S+) with code (-?\d+) after (\d+(?:\.\d+)?) s ===$/;

export type JobDisposition = "completed" | "killed" | "released" | "start-failed";

export interface JobRecord {
  jobId: string;
  schedd: string;
  startedAt: string;
  disposition: JobDisposition;
  exitCode: number | null;
  signal: string | null;
  wallS: number;
  userS: number;
  sysS: number;
  peakRssMb: number;
  holdReason?: string;
}

export type PilotExitReason =
  ExitReason | "blackhole" | "job-hook" | "validation" | "config" | "error";

export interface CheckSummary {
  name: string;
  ok: boolean;
  failure?: PilotFailure;
  ms: number;
}

export interface PilotReport {
  version: number;
  pilotId: string;
  host: string;
  entry?: string;
  factory?: string;
  frontend?: string;
  startedAt: string;
  endedAt: string;
  durationS: number;
  validation: { ok: boolean; failure?: PilotFailure; checks: CheckSummary[] };
  jobs: JobRecord[];
  idleS: number;
  exit: { reason: PilotExitReason; code: number; failureClass?: FailureClass; message?: string };
}

export const startMarker = (at: Date) => `=== Pilot starting ${at.toISOString()} ===`;

export function endMarker(at: Date, code: number, seconds: number): string {
  return `=== Pilot ending ${at.toISOString()} with code ${code} after ${Math.round(seconds)} s ===`;
}

export function summarize(r: PilotReport): string[] {
  const by = (d: JobDisposition) => r.jobs.filter((j) => j.disposition === d).length;
  const lines = [
    `Pilot ${r.pilotId} on ${r.host}: validation ${r.validation.ok ? "passed" : "FAILED"}`,
    `Jobs: ${r.jobs.length} (completed ${by("completed")}, killed ${by("killed")}, ` +
      `released ${by("released")}, failed to start ${by("start-failed")}); idle ${Math.round(r.idleS)} s`,
    `Exit: ${r.exit.reason}${r.exit.failureClass ? ` [${r.exit.failureClass}]` : ""}` +
      `${r.exit.message ? `: ${r.exit.message}` : ""}`,
  ];
  return lines;
}

/** Summary, then the JSON between its markers, then the ending line. One JSON line: grep-able. */
export function formatReport(r: PilotReport): string {
  return [
    ...summarize(r),
    REPORT_BEGIN,
    JSON.stringify(r),
    REPORT_END,
    endMarker(new Date(r.endedAt), r.exit.code, r.durationS),
    "",
  ].join("\n");
}

export interface ParsedPilotOutput {
  startedAt?: string;
  report?: PilotReport;
  ending?: { at: string; code: number; seconds: number };
  /** Something began that did not end: the output was cut (pilot killed, log truncated). */
  truncated: boolean;
  problems: string[];
}

function isReport(v: unknown): v is PilotReport {
  if (typeof v !== "object" || v === null) return false;
  const r = v as Partial<PilotReport>;
  return (
    typeof r.version === "number" &&
    typeof r.pilotId === "string" &&
    Array.isArray(r.jobs) &&
    typeof r.exit === "object" &&
    r.exit !== null &&
    typeof r.exit.code === "number"
  );
}

export function parsePilotOutput(text: string): ParsedPilotOutput {
  const out: ParsedPilotOutput = { truncated: false, problems: [] };
  const lines = text.split(/\r?\n/);
  let body: string[] | undefined;
  for (const line of lines) {
    const t = line.trim();
    if (body) {
      if (t === REPORT_END) {
        try {
          const v: unknown = JSON.parse(body.join("\n"));
          if (isReport(v)) out.report = v;
          else out.problems.push("report JSON lacks required fields");
        } catch (e) {
          out.problems.push(`report JSON does not parse: ${(e as Error).message}`);
        }
        body = undefined;
      } else body.push(line);
      continue;
    }
    if (t === REPORT_BEGIN) body = [];
    const s = t.match(STARTING);
    if (s) out.startedAt = s[1];
    const e = t.match(ENDING);
    if (e) out.ending = { at: e[1]!, code: Number(e[2]), seconds: Number(e[3]) };
  }
  if (body) {
    out.truncated = true;
    out.problems.push("report begins but never ends");
  }
  if (out.startedAt && !out.ending) {
    out.truncated = true;
    if (!out.problems.length) out.problems.push("no ending line");
  }
  if (out.report && out.report.version > REPORT_VERSION) {
    out.problems.push(`report version ${out.report.version} is newer than ${REPORT_VERSION}`);
  }
  return out;
}
