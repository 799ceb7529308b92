/**
 * One owner's autoclusters ordered by the owner's best idle job in each (higher JobPrio, then
 * older), kept up to date as jobs come and go: a heap with each queue's position recorded, so a
 * changed best job moves its queue in O(log n). A claim walks it best-first and stops at the
 * first autocluster that matches the slot, instead of looking at every autocluster; when the slot
 * matches all of them that is the top, whatever the number of slots.
 */
import type { IdleHeap, HeapJob } from "./idle-heap.js";

/** One owner's idle jobs in one autocluster. */
export interface OwnerQueue {
  readonly autoclusterId: number;
  readonly heap: IdleHeap;
  count: number;
  /** The owner's best idle job here (undefined once none is left). */
  top: HeapJob | undefined;
  /** Where the queue sits in its owner's heap; -1 when it is not there. */
  pos: number;
}

/** Whether queue `a` goes before `b`: their best jobs by JobPrio, then age. */
function before(a: OwnerQueue, b: OwnerQueue): boolean {
  const x = a.top!;
  const y = b.top!;
  if (x.prio !== y.prio) return x.prio > y.prio;
  if (x.cluster !== y.cluster) return x.cluster < y.cluster;
  return x.proc < y.proc;
}

export class OwnerAutoclusters {
  private readonly items: OwnerQueue[] = [];

  get size(): number {
    return this.items.length;
  }

  /** `q.top` was set anew (better, worse, or gone): the queue takes its place. */
  update(q: OwnerQueue): void {
    const items = this.items;
    if (q.top === undefined) {
      if (q.pos < 0) return;
      const last = items.pop()!;
      if (last !== q) {
        last.pos = q.pos;
        items[q.pos] = last;
        this.siftUp(last.pos);
        this.siftDown(last.pos);
      }
      q.pos = -1;
      return;
    }
    if (q.pos < 0) {
      q.pos = items.length;
      items.push(q);
    }
    this.siftUp(q.pos);
    this.siftDown(q.pos);
  }

  /** The best queue `accept` takes, visiting queues best first and never below one it took. */
  first(accept: (q: OwnerQueue) => boolean): OwnerQueue | undefined {
    const items = this.items;
    if (items.length === 0) return undefined;
    if (accept(items[0]!)) return items[0];
    // Best-first over the heap's tree: a node is visited only after its parent was refused.
    const frontier = new IndexHeap(items);
    frontier.push(1);
    frontier.push(2);
    for (;;) {
      const i = frontier.pop();
      if (i === undefined) return undefined;
      if (accept(items[i]!)) return items[i];
      frontier.push(2 * i + 1);
      frontier.push(2 * i + 2);
    }
  }

  private siftUp(from: number): void {
    const items = this.items;
    let i = from;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(items[i]!, items[parent]!)) return;
      this.swap(i, parent);
      i = parent;
    }
  }

  private siftDown(from: number): void {
    const items = this.items;
    let i = from;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let best = i;
      if (l < items.length && before(items[l]!, items[best]!)) best = l;
      if (r < items.length && before(items[r]!, items[best]!)) best = r;
      if (best === i) return;
      this.swap(i, best);
      i = best;
    }
  }

  private swap(i: number, j: number): void {
    const items = this.items;
    const a = items[i]!;
    const b = items[j]!;
    items[i] = b;
    items[j] = a;
    a.pos = j;
    b.pos = i;
  }
}

/** Positions in a queue heap, ordered as their queues; positions past its end are ignored. */
class IndexHeap {
  private readonly idx: number[] = [];
  constructor(private readonly items: readonly OwnerQueue[]) {}

  push(i: number): void {
    if (i >= this.items.length) return;
    const idx = this.idx;
    idx.push(i);
    let k = idx.length - 1;
    while (k > 0) {
      const parent = (k - 1) >> 1;
      if (!before(this.items[idx[k]!]!, this.items[idx[parent]!]!)) break;
      [idx[k], idx[parent]] = [idx[parent]!, idx[k]!];
      k = parent;
    }
  }

  pop(): number | undefined {
    const idx = this.idx;
    if (idx.length === 0) return undefined;
    const out = idx[0]!;
    const last = idx.pop()!;
    if (idx.length > 0) {
      idx[0] = last;
      let k = 0;
      for (;;) {
        const l = 2 * k + 1;
        const r = l + 1;
        let best = k;
        if (l < idx.length && before(this.items[idx[l]!]!, this.items[idx[best]!]!)) best = l;
        if (r < idx.length && before(this.items[idx[r]!]!, this.items[idx[best]!]!)) best = r;
        if (best === k) break;
        [idx[k], idx[best]] = [idx[best]!, idx[k]!];
        k = best;
      }
    }
    return out;
  }
}
