/**
 * Idle jobs of one owner in one autocluster, best first: higher JobPrio, then older (smaller
 * cluster.proc). Removal is lazy: an entry whose job left Idle (or moved cluster) since it was
 * pushed carries a stale `seq` and is dropped when it reaches the top.
 */
export interface HeapJob {
  cluster: number;
  proc: number;
  prio: number;
  /** Bumped every time the job is (re)indexed; entries with an older seq are stale. */
  seq: number;
  status: number;
}

interface Entry {
  job: HeapJob;
  seq: number;
  /** As pushed: an edit of a job no longer idle changes its record but must not reorder this. */
  prio: number;
}

function better(a: Entry, b: Entry): boolean {
  if (a.prio !== b.prio) return a.prio > b.prio;
  if (a.job.cluster !== b.job.cluster) return a.job.cluster < b.job.cluster;
  return a.job.proc < b.job.proc;
}

export class IdleHeap {
  private readonly items: Entry[] = [];

  push(job: HeapJob): void {
    const items = this.items;
    items.push({ job, seq: job.seq, prio: job.prio });
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!better(items[i]!, items[parent]!)) break;
      [items[i], items[parent]] = [items[parent]!, items[i]!];
      i = parent;
    }
  }

  /** The best live job, dropping stale entries on the way; undefined when none is left. */
  peek<C>(
    isLive: (job: HeapJob, seq: number, context: C) => boolean,
    context: C,
  ): HeapJob | undefined {
    while (this.items.length > 0) {
      const top = this.items[0]!;
      if (isLive(top.job, top.seq, context)) return top.job;
      this.pop();
    }
    return undefined;
  }

  private pop(): void {
    const items = this.items;
    const last = items.pop()!;
    if (items.length === 0) return;
    items[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let best = i;
      if (l < items.length && better(items[l]!, items[best]!)) best = l;
      if (r < items.length && better(items[r]!, items[best]!)) best = r;
      if (best === i) return;
      [items[i], items[best]] = [items[best]!, items[i]!];
      i = best;
    }
  }

  get size(): number {
    return this.items.length;
  }
}
