/**
 * A compiled job: attribute name to ClassAd expression text (new syntax), in a stable order.
 *
 * Jobs of one queue statement share one layout: the attributes that are the same for every job
 * are stored once and only the parts that depend on the job (ProcId, values using $(Process),
 * $(Item)...) are kept per job. That keeps a `queue 100000` cheap in time and memory.
 */

export type AttrPair = readonly [name: string, text: string];

/** Shared pairs, or the index of a per-job part. */
export type LayoutSegment = readonly AttrPair[] | number;

export class JobAdText implements Iterable<AttrPair> {
  constructor(
    readonly procId: number,
    private readonly layout: readonly LayoutSegment[],
    private readonly parts: readonly (readonly AttrPair[])[],
  ) {}

  *[Symbol.iterator](): IterableIterator<AttrPair> {
    for (const segment of this.layout) {
      const pairs = typeof segment === "number" ? this.parts[segment] : segment;
      for (const pair of pairs) yield pair;
    }
  }

  /** Expression text of an attribute (names are case-insensitive, as in ClassAds). */
  get(name: string): string | undefined {
    const key = name.toLowerCase();
    for (const [n, text] of this) if (n.toLowerCase() === key) return text;
    return undefined;
  }

  has(name: string): boolean {
    return this.get(name) !== undefined;
  }

  names(): string[] {
    return [...this].map(([n]) => n);
  }

  get size(): number {
    let n = 0;
    for (const segment of this.layout) {
      n += (typeof segment === "number" ? this.parts[segment] : segment).length;
    }
    return n;
  }

  /** Wire form: attribute name to expression text, as `ClassAd.fromJSON` takes it. */
  toRecord(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [n, text] of this) out[n] = text;
    return out;
  }
}
