/**
 * A compiled job: attribute name to ClassAd expression text (new syntax), in a stable order.
 *
 * Jobs of one queue statement share one layout: the attributes that are the same for every job
 * are stored once and only the parts that depend on the job (ProcId, values using $(Process),
 * $(Item)...) are kept per job. That keeps a `queue 100000` cheap in time and memory.
 */

export type AttrPair = readonly [name: string, text: string];

/** Shared pairs, or a marker for the next group of per-job attributes. */
export type LayoutSegment = readonly AttrPair[] | "own";

/**
 * A job's own attributes, flat to keep a large cluster to two objects per job: name, text,
 * name, text... with a null closing each group (one group per "own" segment of the layout).
 */
export type OwnAttributes = readonly (string | null)[];

export class JobAdText implements Iterable<AttrPair> {
  constructor(
    readonly procId: number,
    private readonly layout: readonly LayoutSegment[],
    private readonly own: OwnAttributes,
  ) {}

  *[Symbol.iterator](): IterableIterator<AttrPair> {
    let cursor = 0;
    for (const segment of this.layout) {
      if (segment !== "own") {
        yield* segment;
        continue;
      }
      for (
        let name = this.own[cursor++];
        name !== null && name !== undefined;
        name = this.own[cursor++]
      ) {
        yield [name, this.own[cursor++] as string];
      }
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
    for (const segment of this.layout) if (segment !== "own") n += segment.length;
    let groupEnds = 0;
    for (const v of this.own) if (v === null) groupEnds++;
    return n + (this.own.length - groupEnds) / 2;
  }

  /**
   * Whether two jobs come from the same queue statement and so share every attribute outside
   * their own: a store can keep those once per group, as HTCondor keeps a cluster ad.
   */
  sharesLayoutWith(other: JobAdText): boolean {
    return this.layout === other.layout;
  }

  /** The attributes this job shares with the others of its queue statement. */
  sharedAttributes(): AttrPair[] {
    const out: AttrPair[] = [];
    for (const segment of this.layout) if (segment !== "own") out.push(...segment);
    return out;
  }

  /** The attributes particular to this job (ProcId, and values using per-job macros). */
  ownAttributes(): AttrPair[] {
    const out: AttrPair[] = [];
    for (let i = 0; i < this.own.length; i++) {
      const name = this.own[i];
      if (name !== null) out.push([name, this.own[++i] as string]);
    }
    return out;
  }

  /** Wire form: attribute name to expression text, as `ClassAd.fromJSON` takes it. */
  toRecord(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [n, text] of this) out[n] = text;
    return out;
  }
}
