/**
 * Job CPU seconds per factory entry, the numerator of goodput (job CPU hours per pilot core
 * hour; the factory counts the denominator). Each finished run's user and system CPU, as its
 * pilot reports it, is charged to the entry and factory of the pilot that ran it, so that two
 * factories with an entry of the same name stay apart. The report comes from a worker node, so
 * a run is charged at most its wall time on the cores it asked for, and the entries counted are
 * bounded (a shared pilot credential lets a payload name any entry).
 */
import type { EntryJobCpu } from "../ads/scheduler.js";

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
  private readonly rows = new Map<string, EntryJobCpu>();

  /** CPU seconds by entry and factory since the schedd started. */
  get entries(): Iterable<Readonly<EntryJobCpu>> {
    return this.rows.values();
  }

  /**
   * A run of no CPU still names its entry: its goodput is 0, not unknown. `factory` is
   * undefined for a pilot that did not name its factory.
   */
  charge(entry: string, factory: string | undefined, seconds: number): void {
    if (!(seconds >= 0)) return;
    let key = `${factory ?? ""}\u0000${entry}`;
    let row = this.rows.get(key);
    if (row === undefined) {
      if (this.rows.size >= MAX_ENTRIES) {
        key = OTHER_ENTRY;
        row = this.rows.get(key);
      }
      if (row === undefined) {
        row =
          key === OTHER_ENTRY
            ? { entry: OTHER_ENTRY, factory: OTHER_ENTRY, cpuSeconds: 0 }
            : factory === undefined
              ? { entry, cpuSeconds: 0 }
              : { entry, factory, cpuSeconds: 0 };
        this.rows.set(key, row);
      }
    }
    row.cpuSeconds += seconds;
  }
}
