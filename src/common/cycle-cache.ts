/**
 * A map for daemons that work in cycles: an entry lives while cycles use it and is dropped once a
 * whole cycle has passed without `get` or `set` touching it, so the map follows what the daemon
 * is asked for instead of growing.
 */
export class CycleCache<V> {
  private kept = new Map<string, V>();
  private used = new Map<string, V>();

  get(key: string): V | undefined {
    const v = this.used.get(key) ?? this.kept.get(key);
    if (v !== undefined) this.used.set(key, v);
    return v;
  }

  set(key: string, v: V): void {
    this.used.set(key, v);
  }

  /** Everything still held: touched in this cycle or the last. */
  values(): V[] {
    return [...this.kept.values(), ...this.used.values()];
  }

  endCycle(): void {
    this.kept = this.used;
    this.used = new Map();
  }
}
