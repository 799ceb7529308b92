/**
 * Reconnect delays: exponential growth with "full jitter" (a uniform pick between zero and the
 * exponential ceiling), so that many clients cut off by one server restart do not come back in
 * lock-step. Pure: the random source is a parameter.
 */

export type BackoffOptions = {
  /** Ceiling of the first delay, in ms. */
  initialMs: number;
  /** Largest ceiling, in ms. */
  maxMs: number;
  /** Growth of the ceiling per attempt. */
  factor: number;
  /** Lowest delay, in ms, so a flapping server is not hammered even on a lucky draw. */
  minMs: number;
};

export const DEFAULT_BACKOFF: Readonly<BackoffOptions> = Object.freeze({
  initialMs: 100,
  maxMs: 30_000,
  factor: 2,
  minMs: 20,
});

/** The ceiling for attempt `attempt` (0-based) before jitter. */
export function backoffCeiling(attempt: number, opts: BackoffOptions = DEFAULT_BACKOFF): number {
  const exp = opts.initialMs * opts.factor ** Math.max(0, attempt);
  return Math.min(opts.maxMs, Number.isFinite(exp) ? exp : opts.maxMs);
}

/** The delay before reconnect attempt `attempt` (0-based); `random` returns values in [0, 1). */
export function backoffDelay(
  attempt: number,
  random: () => number = Math.random,
  opts: BackoffOptions = DEFAULT_BACKOFF,
): number {
  const ceiling = backoffCeiling(attempt, opts);
  return Math.max(opts.minMs, Math.floor(random() * ceiling));
}
