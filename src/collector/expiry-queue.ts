/**
 * Deadlines of stored ads, soonest first. A binary min-heap with lazy deletion: replacing an ad
 * pushes a new entry and leaves the old one to be skipped when it surfaces (its generation no
 * longer matches). The heap is rebuilt when stale entries outnumber live ones, so its size stays
 * within twice the number of ads however often they are re-advertised.
 */
export interface ExpiryEntry {
  key: string;
  /** Lower-case type of the ad, when the key alone does not say (the store's tables are per type). */
  type?: string;
  at: number;
  generation: number;
}

export class ExpiryQueue {
  private heap: ExpiryEntry[] = [];

  get size(): number {
    return this.heap.length;
  }

  push(entry: ExpiryEntry): void {
    const heap = this.heap;
    heap.push(entry);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (heap[parent]!.at <= entry.at) break;
      heap[i] = heap[parent]!;
      i = parent;
    }
    heap[i] = entry;
  }

  peek(): ExpiryEntry | undefined {
    return this.heap[0];
  }

  pop(): ExpiryEntry | undefined {
    const heap = this.heap;
    const top = heap[0];
    const last = heap.pop();
    if (top === undefined || last === undefined || heap.length === 0) return top;
    let i = 0;
    const n = heap.length;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const child = r < n && heap[r]!.at < heap[l]!.at ? r : l;
      if (heap[child]!.at >= last.at) break;
      heap[i] = heap[child]!;
      i = child;
    }
    heap[i] = last;
    return top;
  }

  /** Drop entries for which `isLive` is false and restore the heap order. */
  compact(isLive: (e: ExpiryEntry) => boolean): void {
    const live = this.heap.filter(isLive);
    this.heap = [];
    for (const e of live) this.push(e);
  }
}
