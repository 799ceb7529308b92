/**
 * One log line per refusal cause at most every few seconds, so a peer that hammers a listener
 * with bad credentials or too many connections cannot flood the log; the next line says how many
 * refusals of that cause went unlogged in between.
 */
import type { Logger } from "pino";

export const REFUSAL_LOG_INTERVAL_MS = 10_000;

export type RefusalLog = (cause: string, fields: Record<string, unknown>, msg: string) => void;

export function createRefusalLog(
  log: Logger,
  intervalMs = REFUSAL_LOG_INTERVAL_MS,
  now: () => number = Date.now,
): RefusalLog {
  const last = new Map<string, { at: number; suppressed: number }>();
  return (cause, fields, msg) => {
    const t = now();
    const seen = last.get(cause);
    if (seen && t - seen.at < intervalMs) {
      seen.suppressed++;
      return;
    }
    // Causes are stable codes, so the map stays small; entries are replaced, never added per peer.
    const suppressed = seen?.suppressed ?? 0;
    last.set(cause, { at: t, suppressed: 0 });
    log.warn({ cause, ...fields, ...(suppressed > 0 ? { suppressed } : {}) }, msg);
  };
}
