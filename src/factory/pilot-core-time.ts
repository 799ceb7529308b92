/**
 * Pilot core-seconds per entry, the denominator of goodput (job CPU hours per pilot core hour;
 * the schedds count the numerator). A factory knows a pilot's state only when it polls, so the
 * running pilots a poll counted are taken to run until the next cycle, each holding the cores
 * its entry asks the batch system for (`pilot.cpus`). Each cycle adds the time since the last
 * one to the store's `pilot_core_s` counter of each entry (client ""), in whole seconds with the
 * fractions carried, so the total survives a restart; time while the factory was stopped is not
 * counted, and a gap longer than MAX_GAP_CYCLES cycles counts as that many.
 */
import { type CycleDeps, entryConfig } from "./cycle-deps.js";

/** The store counter, per entry with client "". */
export const PILOT_CORE_SECONDS = "pilot_core_s";
const MAX_GAP_CYCLES = 3;

export class PilotCoreTime {
  private last: number | undefined;
  private readonly carry = new Map<string, number>();

  constructor(private readonly cycleMs: number) {}

  /**
   * Whole core-seconds per entry since the previous call, from the running pilots counted then
   * (`running`, read before this cycle's poll) and each entry's cores. The first call only starts
   * the clock.
   */
  accrue(
    now: number,
    running: Iterable<readonly [entry: string, pilots: number]>,
    cores: (entry: string) => number,
  ): Map<string, number> {
    const out = new Map<string, number>();
    const since = this.last;
    this.last = now;
    if (since === undefined || now <= since) return out;
    const seconds = Math.min(now - since, MAX_GAP_CYCLES * this.cycleMs) / 1000;
    for (const [entry, pilots] of running) {
      if (pilots <= 0) continue;
      const total = (this.carry.get(entry) ?? 0) + pilots * cores(entry) * seconds;
      const whole = Math.floor(total);
      this.carry.set(entry, total - whole);
      if (whole > 0) out.set(entry, whole);
    }
    return out;
  }
}

/** This cycle's share: running pilots from the last poll, cores from each entry's pilot. */
export function recordCoreTime(d: CycleDeps): void {
  if (!d.coreTime) return;
  const running = [...d.store.liveCounts()].map(([e, c]) => [e, c.total.running] as const);
  const add = d.coreTime.accrue(d.now(), running, (e) => entryConfig(d, e)?.pilot?.cpus ?? 1);
  if (add.size === 0) return;
  d.store.transaction(() => {
    for (const [entry, s] of add) d.store.count(entry, "", PILOT_CORE_SECONDS, s);
  }, "relaxed");
}
