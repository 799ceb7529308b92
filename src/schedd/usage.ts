/**
 * Recent usage per owner for fair share, decayed with a half-life like HTCondor's
 * PRIORITY_HALFLIFE. Each claim charges one unit; the current value is the decayed sum plus the
 * owner's running jobs. Pure arithmetic over (state, now); the queue keeps the state in memory and
 * in the schedd's database (written with each claim), so a restart does not reset fairness.
 */
export interface UsageState {
  value: number;
  at: number;
}

export function decayed(s: UsageState | undefined, nowMs: number, halfLifeMs: number): number {
  if (s === undefined) return 0;
  const dt = Math.max(0, nowMs - s.at);
  return s.value * Math.pow(0.5, dt / halfLifeMs);
}

export function charged(
  s: UsageState | undefined,
  units: number,
  nowMs: number,
  halfLifeMs: number,
): UsageState {
  return { value: decayed(s, nowMs, halfLifeMs) + units, at: nowMs };
}
