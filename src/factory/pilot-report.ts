/**
 * STAND-IN for the pilot package's report parser (src/pilot/report.ts, `parsePilotOutput`, on the
 * pilot branch), to be replaced by it at merge. It reads the JSON between the report marker lines
 * and keeps only what the factory counts.
 */
export const REPORT_BEGIN = "=== Pilot report begin ===";
export const REPORT_END = "=== Pilot report end ===";

export interface PilotOutcome {
  /** Whether a report was found and readable. */
  reported: boolean;
  validationOk?: boolean;
  /** The failure class of a failed validation or exit (e.g. "Corruption", "Config"). */
  failureClass?: string;
  jobsRun: number;
  wallS?: number;
  exitReason?: string;
  exitCode?: number;
}

export function parsePilotReport(stdout: string): PilotOutcome {
  const begin = stdout.lastIndexOf(REPORT_BEGIN);
  const end = begin < 0 ? -1 : stdout.indexOf(REPORT_END, begin);
  if (begin < 0 || end < 0) return { reported: false, jobsRun: 0 };
  const body = stdout.slice(begin + REPORT_BEGIN.length, end).trim();
  try {
    const r = JSON.parse(body) as {
      validation?: { ok?: boolean; failure?: { class?: string } };
      jobs?: unknown[];
      durationS?: number;
      exit?: { reason?: string; code?: number; failureClass?: string };
    };
    return {
      reported: true,
      validationOk: r.validation?.ok,
      failureClass: r.exit?.failureClass ?? r.validation?.failure?.class,
      jobsRun: Array.isArray(r.jobs) ? r.jobs.length : 0,
      wallS: r.durationS,
      exitReason: r.exit?.reason,
      exitCode: r.exit?.code,
    };
  } catch {
    return { reported: false, jobsRun: 0 };
  }
}
