/**
 * When to heartbeat a lease, pure: at a fraction of the time the lease has left, so a short
 * lease is renewed in time and a long one is not renewed needlessly often. The floor keeps a
 * lease close to its end (or a schedd that cannot be reached) from being hammered; the ceiling
 * bounds how late the pilot learns that a job was removed or held, since heartbeat replies are
 * how it hears.
 */
export interface HeartbeatPolicy {
  /** Share of the lease's remaining time to wait before renewing it. */
  fraction: number;
  floorMs: number;
  ceilingMs: number;
  /** Delay when the schedd did not say how long the lease lasts. */
  fallbackMs: number;
}

export const DEFAULT_HEARTBEAT: HeartbeatPolicy = {
  fraction: 1 / 3,
  floorMs: 5_000,
  ceilingMs: 300_000,
  fallbackMs: 60_000,
};

/** Milliseconds from now to the next heartbeat of a lease with `leftMs` left (if known). */
export function heartbeatDelay(leftMs: number | undefined, p: HeartbeatPolicy): number {
  if (leftMs === undefined || !Number.isFinite(leftMs)) return p.fallbackMs;
  return Math.min(p.ceilingMs, Math.max(p.floorMs, leftMs * p.fraction));
}
