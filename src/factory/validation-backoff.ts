/**
 * Back-off for an entry whose pilots keep failing validation (a broken node, a site script that
 * always fails, a wrong runtime): after `after_failures` finished pilots in a row failed their
 * validation, the factory submits nothing there for `pause_s`, doubling with each further failed
 * pilot up to `max_pause_s`; one pilot that validates ends it. Sending more pilots to such an
 * entry only burns the site's batch slots and the frontend's credential. Pure: state in, state out.
 */

export interface ValidationBackoffPolicy {
  afterFailures: number;
  pauseMs: number;
  maxPauseMs: number;
}

export interface ValidationBackoff {
  /** Finished pilots in a row whose validation failed. */
  failures: number;
  /** No submissions before this time (ms); 0 while below the threshold. */
  until: number;
  /** The last failure, `<class>: <message>`, as the pilot reported it (bounded). */
  lastFailure?: string;
}

/** One finished pilot's validation, as its report said (undefined: no readable report). */
export interface ValidationOutcome {
  validationOk?: boolean;
  failureClass?: string;
  failureMessage?: string;
}

/** Longest failure text kept: it comes from the worker node and goes into an ad. */
export const MAX_FAILURE_TEXT = 300;

export function afterValidation(
  prev: ValidationBackoff | undefined,
  outcome: ValidationOutcome,
  now: number,
  policy: ValidationBackoffPolicy,
): ValidationBackoff | undefined {
  if (outcome.validationOk === true) return undefined;
  // No report (killed before it wrote one, output lost): says nothing about validation.
  if (outcome.validationOk !== false) return prev;
  const failures = (prev?.failures ?? 0) + 1;
  const over = failures - policy.afterFailures;
  const until =
    over < 0 ? 0 : now + Math.min(policy.maxPauseMs, policy.pauseMs * 2 ** Math.min(over, 30));
  return { failures, until, lastFailure: failureText(outcome) };
}

export function validationPaused(state: ValidationBackoff | undefined, now: number): boolean {
  return state !== undefined && now < state.until;
}

/** Why the entry submits nothing now, for the factory's books and log; undefined if it may. */
export function pauseReason(state: ValidationBackoff | undefined, now: number): string | undefined {
  if (!validationPaused(state, now)) return undefined;
  return (
    `not submitting until ${new Date(state!.until).toISOString()}: the last ` +
    `${state!.failures} pilot(s) failed validation (${state!.lastFailure ?? "?"})`
  );
}

function failureText(o: ValidationOutcome): string {
  // Printable text only, bounded: the report is written on a node the factory does not control.
  const text = `${o.failureClass ?? "Unknown"}: ${o.failureMessage ?? ""}`.replace(
    /[^\x20-\x7e]/g,
    "?",
  );
  return text.length > MAX_FAILURE_TEXT ? `${text.slice(0, MAX_FAILURE_TEXT - 3)}...` : text;
}
