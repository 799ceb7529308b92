/**
 * A map for daemons that work in cycles: an entry lives while cycles use it and is dropped once a
 * whole cycle has passed without `get` or `set` touching it, so the map follows what the daemon
 * is asked for instead of growing. Each entry carries the cycle that last touched it, so a hit is
 * one lookup and one map holds everything: a second map refilled every cycle cost a factory with
 * 10,000 requests more than the lookups themselves.
 */
export class CycleCache<V> {
  private readonly held = new Map<string, { value: V; cycle: number }>();
  private cycle = 0;

  get(key: string): V | undefined {
    const e = this.held.get(key);
    if (e === undefined) return undefined;
    e.cycle = this.cycle;
    return e.value;
  }

  set(key: string, v: V): void {
    const e = this.held.get(key);
    if (e === undefined) this.held.set(key, { value: v, cycle: this.cycle });
    else {
      e.value = v;
      e.cycle = this.cycle;
    }
  }

  /** Everything still held: touched in this cycle or the last. */
  values(): V[] {
    return Array.from(this.held.values(), (e) => e.value);
  }

  endCycle(): void {
    for (const [key, e] of this.held) if (e.cycle !== this.cycle) this.held.delete(key);
    this.cycle++;
  }
}
