/**
 * Job CPU seconds per factory entry, the numerator of goodput (job CPU hours per pilot core
 * hour; the factory counts the denominator). Each finished run's user and system CPU, as its
 * pilot reports it, is charged to the entry of the pilot that ran it. The report comes from a
 * worker node, so a run is charged at most its wall time on the cores it asked for, and the
 * entries counted are bounded (a shared pilot credential lets a payload name any entry).
 */

/** Entries counted by name; the rest are summed under OTHER_ENTRY. */
export const MAX_ENTRIES = 2000;
export const OTHER_ENTRY = "_other";

/** CPU seconds a reported run may count: finite, not negative, at most wall × cores. */
export function chargeableCpu(
  cpuUser: number,
  cpuSys: number,
  wallS: number,
  requestCpus: number,
): number {
  const pos = (n: number) => (Number.isFinite(n) && n > 0 ? n : 0);
  const cores = Math.max(1, pos(requestCpus));
  return Math.min(pos(cpuUser) + pos(cpuSys), pos(wallS) * cores);
}

export class EntryCpu {
  private readonly byEntry = new Map<string, number>();

  /** CPU seconds by entry since the schedd started. */
  get entries(): ReadonlyMap<string, number> {
    return this.byEntry;
  }

  /** A run of no CPU still names its entry: its goodput is 0, not unknown. */
  charge(entry: string, seconds: number): void {
    if (!(seconds >= 0)) return;
    const key = this.byEntry.has(entry) || this.byEntry.size < MAX_ENTRIES ? entry : OTHER_ENTRY;
    this.byEntry.set(key, (this.byEntry.get(key) ?? 0) + seconds);
  }
}
