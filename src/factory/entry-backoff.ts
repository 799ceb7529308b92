/**
 * Back-off for an entry whose CE refuses submissions: after a cycle in which every submission
 * to the entry failed, the factory submits nothing there for a while, doubling the pause with
 * each such cycle up to a ceiling, and resumes at once after a cycle with a success. A refusing
 * CE then costs one try per pause, not one per cycle and client. Pure: state in, state out.
 */
export interface EntryBackoff {
  /** Consecutive cycles in which every submission to the entry failed. */
  failures: number;
  /** No submissions before this time (ms). */
  until: number;
  lastError?: string;
}

export const BACKOFF_BASE_MS = 30_000;
export const BACKOFF_MAX_MS = 30 * 60_000;

export function backoffDelayMs(failures: number): number {
  return Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** Math.max(0, failures - 1));
}

/** The entry's state after a cycle's submissions to it (nothing tried: unchanged). */
export function afterSubmit(
  prev: EntryBackoff | undefined,
  outcome: { submitted: number; failed: number; error?: string },
  now: number,
): EntryBackoff | undefined {
  if (outcome.submitted > 0) return undefined;
  if (outcome.failed === 0) return prev;
  const failures = (prev?.failures ?? 0) + 1;
  return { failures, until: now + backoffDelayMs(failures), lastError: outcome.error };
}

export function backingOff(state: EntryBackoff | undefined, now: number): boolean {
  return state !== undefined && now < state.until;
}
