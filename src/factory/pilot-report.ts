/**
 * What the factory keeps of a finished pilot's report: the pilot package writes it between marker
 * lines on stdout (src/pilot/report.ts); this reduces it to the counts the factory advertises.
 */
import { isFailureClass } from "../pilot/failure.js";
import { parsePilotOutput } from "../pilot/report.js";

export interface PilotOutcome {
  /** Whether a complete, readable report was found. */
  reported: boolean;
  validationOk?: boolean;
  /** The failure class of a failed validation or exit (e.g. "Corruption", "Config"). */
  failureClass?: string;
  /** The failure's message, as the worker node wrote it (untrusted text). */
  failureMessage?: string;
  jobsRun: number;
  wallS?: number;
  exitReason?: string;
  exitCode?: number;
}

export function parsePilotReport(stdout: string): PilotOutcome {
  const { report } = parsePilotOutput(stdout);
  if (!report) return { reported: false, jobsRun: 0 };
  return {
    reported: true,
    validationOk: report.validation?.ok,
    // The report comes from the worker node: only a known class names a counter or a label.
    failureClass: [report.exit.failureClass, report.validation?.failure?.class].find(
      isFailureClass,
    ),
    ...failureMessage(report),
    jobsRun: report.jobs.length,
    wallS: report.durationS,
    exitReason: report.exit.reason,
    exitCode: report.exit.code,
  };
}

function failureMessage(report: { exit: { message?: unknown }; validation?: unknown }) {
  const v = report.validation as { failure?: { message?: unknown } } | undefined;
  const m = v?.failure?.message ?? report.exit.message;
  return typeof m === "string" ? { failureMessage: m } : {};
}
