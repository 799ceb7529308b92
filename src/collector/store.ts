import { type ExpiryEntry, ExpiryQueue } from "./expiry-queue.js";

/** An ad as the collector holds it, with the bookkeeping the collector adds. */
export interface StoredAd<A> {
  readonly type: string;
  readonly name: string;
  readonly ad: A;
  /** Identity (slash-form DN) of the writer. */
  readonly identity: string;
  /** Milliseconds since the epoch of the last advertise. */
  readonly lastHeard: number;
  readonly expiresAt: number;
}

export type StoreEvent<A> =
  | { kind: "upserted"; ad: StoredAd<A>; replaced: boolean }
  | { kind: "invalidated"; ad: StoredAd<A> }
  | { kind: "expired"; ad: StoredAd<A> };

export type UpsertResult =
  | { ok: true; replaced: boolean }
  | { ok: false; code: "not-owner"; message: string }
  | { ok: false; code: "over-limit"; message: string };

export interface StoreLimits {
  /** Most ads one identity may hold at once (admins excepted). */
  maxAdsPerIdentity: number;
}

interface Entry<A> {
  stored: StoredAd<A>;
  generation: number;
}

/**
 * The collector's ad store: pure bookkeeping with no IO and no timers. Callers pass `now` and drive
 * expiry with `expire(now)`; every change is reported to the listeners synchronously, in order.
 *
 * An ad is known by its type and name, both case-insensitive as in HTCondor, and for the types
 * given as `perWriterTypes` by its writer too: there two writers each hold their own ad of one
 * name, as HTCondor's collector keeps apart ads of one Name sent from different addresses, so no
 * writer can take a name before the one its readers wait for (they tell the ads apart by writer).
 */
export class AdStore<A> {
  private readonly byType = new Map<string, Map<string, Entry<A>>>();
  private readonly perIdentity = new Map<string, number>();
  private readonly deadlines = new ExpiryQueue();
  private readonly listeners = new Set<(e: StoreEvent<A>) => void>();
  private readonly perWriter: ReadonlySet<string>;
  private generation = 0;
  private total = 0;

  constructor(
    private readonly limits: StoreLimits,
    perWriterTypes: Iterable<string> = [],
  ) {
    this.perWriter = new Set([...perWriterTypes].map((t) => t.toLowerCase()));
  }

  /** Whether ads of this type are kept per writer. */
  isPerWriter(type: string): boolean {
    return this.perWriter.size > 0 && this.perWriter.has(type.toLowerCase());
  }

  /** The ad's key among all ads of every type: what tells two stored ads apart. */
  keyOf(s: StoredAd<A>): string {
    return `${s.type.toLowerCase()}\u0000${this.keyIn(s.type, s.name, s.identity)}`;
  }

  /** Key within the type's table. */
  private keyIn(type: string, name: string, identity: string): string {
    const lower = name.toLowerCase();
    return this.isPerWriter(type) ? `${lower}\u0000${identity}` : lower;
  }

  get size(): number {
    return this.total;
  }

  /** Subscribe to changes; returns the unsubscribe function. */
  subscribe(listener: (e: StoreEvent<A>) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Insert or replace. Only the identity that wrote an ad (or an admin) may replace it; an identity
   * may hold at most `maxAdsPerIdentity` ads.
   */
  upsert(
    type: string,
    name: string,
    ad: A,
    writer: { identity: string; admin: boolean },
    lifetimeMs: number,
    now: number,
  ): UpsertResult {
    const table = this.table(type, true);
    // Tables are per type, so the lower-case name alone is the key for most types: no string
    // built per update.
    const key = this.keyIn(type, name, writer.identity);
    const old = table.get(key);
    if (old && old.stored.identity !== writer.identity && !writer.admin) {
      return {
        ok: false,
        code: "not-owner",
        message: `${type} ad '${name}' belongs to ${old.stored.identity}`,
      };
    }
    const ownerChanges = !old || old.stored.identity !== writer.identity;
    if (ownerChanges && !writer.admin) {
      const held = this.perIdentity.get(writer.identity) ?? 0;
      if (held >= this.limits.maxAdsPerIdentity) {
        return {
          ok: false,
          code: "over-limit",
          message: `${writer.identity} already holds ${held} ads (limit ${this.limits.maxAdsPerIdentity})`,
        };
      }
    }
    if (old && ownerChanges) this.countFor(old.stored.identity, -1);
    if (ownerChanges) this.countFor(writer.identity, +1);
    const stored: StoredAd<A> = {
      type,
      name,
      ad,
      identity: writer.identity,
      lastHeard: now,
      expiresAt: now + lifetimeMs,
    };
    const entry = { stored, generation: ++this.generation };
    table.set(key, entry);
    if (!old) this.total++;
    this.deadlines.push({
      key,
      type: type.toLowerCase(),
      at: stored.expiresAt,
      generation: entry.generation,
    });
    if (this.deadlines.size > 2 * this.total + 1024) {
      this.deadlines.compact((e) => this.entryFor(e)?.generation === e.generation);
    }
    this.emit({ kind: "upserted", ad: stored, replaced: old !== undefined });
    return { ok: true, replaced: old !== undefined };
  }

  /** The ad of this type and name; for a per-writer type, the one `identity` wrote. */
  get(type: string, name: string, identity = ""): StoredAd<A> | undefined {
    return this.byType.get(type.toLowerCase())?.get(this.keyIn(type, name, identity))?.stored;
  }

  /**
   * Remove one ad; only its writer or an admin may. Absent ads are not an error (idempotent). For a
   * per-writer type, the ad `owner` wrote (the writer's own unless said), or every writer's ad of
   * that name when an admin names no owner.
   */
  invalidate(
    type: string,
    name: string,
    writer: { identity: string; admin: boolean },
    owner?: string,
  ): { ok: true; removed: boolean } | { ok: false; code: "not-owner"; message: string } {
    const table = this.table(type, false);
    if (!table) return { ok: true, removed: false };
    if (owner === undefined && writer.admin && this.isPerWriter(type)) {
      const lower = name.toLowerCase();
      const named = [...table.values()].filter((e) => e.stored.name.toLowerCase() === lower);
      for (const e of named) this.drop(table, e);
      return { ok: true, removed: named.length > 0 };
    }
    const entry = table.get(this.keyIn(type, name, owner ?? writer.identity));
    if (!entry) return { ok: true, removed: false };
    if (entry.stored.identity !== writer.identity && !writer.admin) {
      return {
        ok: false,
        code: "not-owner",
        message: `${type} ad '${name}' belongs to ${entry.stored.identity}`,
      };
    }
    this.drop(table, entry);
    return { ok: true, removed: true };
  }

  private drop(table: Map<string, Entry<A>>, entry: Entry<A>): void {
    const s = entry.stored;
    this.remove(table, this.keyIn(s.type, s.name, s.identity), entry);
    this.emit({ kind: "invalidated", ad: s });
  }

  /** Ads of a type (or of every type when `type` is undefined) that satisfy `keep`, up to `limit`. */
  *select(
    type: string | undefined,
    keep: (s: StoredAd<A>) => boolean,
    limit = Infinity,
  ): Generator<StoredAd<A>> {
    if (limit <= 0) return;
    const tables =
      type === undefined ? [...this.byType.values()] : [this.byType.get(type.toLowerCase())];
    let n = 0;
    for (const table of tables) {
      if (!table) continue;
      for (const { stored } of table.values()) {
        if (!keep(stored)) continue;
        yield stored;
        if (++n >= limit) return;
      }
    }
  }

  /** Call `visit` for each ad of a type (every type when undefined) until it returns false. */
  scan(type: string | undefined, visit: (s: StoredAd<A>) => boolean): void {
    if (type !== undefined) {
      const table = this.byType.get(type.toLowerCase());
      if (table) for (const e of table.values()) if (!visit(e.stored)) return;
      return;
    }
    for (const table of [...this.byType.values()]) {
      for (const e of table.values()) if (!visit(e.stored)) return;
    }
  }

  /** Remove every ad whose deadline is at or before `now`; returns how many went. */
  expire(now: number): number {
    let removed = 0;
    for (let next = this.deadlines.peek(); next && next.at <= now; next = this.deadlines.peek()) {
      this.deadlines.pop();
      const table = this.byType.get(next.type ?? "");
      const entry = table?.get(next.key);
      if (!table || !entry || entry.generation !== next.generation) continue;
      this.remove(table, next.key, entry);
      this.emit({ kind: "expired", ad: entry.stored });
      removed++;
    }
    return removed;
  }

  /** Milliseconds since the epoch of the next deadline, if any ad is held. */
  nextDeadline(): number | undefined {
    return this.deadlines.peek()?.at;
  }

  /** Number of ads per type, with each type's name as first written. */
  countsByType(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const table of this.byType.values()) {
      const first = table.values().next().value;
      if (first) counts.set(first.stored.type, table.size);
    }
    return counts;
  }

  private entryFor(e: ExpiryEntry): Entry<A> | undefined {
    return this.byType.get(e.type ?? "")?.get(e.key);
  }

  private table(type: string, create: true): Map<string, Entry<A>>;
  private table(type: string, create: false): Map<string, Entry<A>> | undefined;
  private table(type: string, create: boolean): Map<string, Entry<A>> | undefined {
    const lower = type.toLowerCase();
    let table = this.byType.get(lower);
    if (!table && create) {
      table = new Map();
      this.byType.set(lower, table);
    }
    return table;
  }

  private remove(table: Map<string, Entry<A>>, key: string, entry: Entry<A>): void {
    table.delete(key);
    this.total--;
    this.countFor(entry.stored.identity, -1);
    if (table.size === 0) this.byType.delete(entry.stored.type.toLowerCase());
  }

  private countFor(identity: string, delta: number): void {
    const n = (this.perIdentity.get(identity) ?? 0) + delta;
    if (n <= 0) this.perIdentity.delete(identity);
    else this.perIdentity.set(identity, n);
  }

  private emit(event: StoreEvent<A>): void {
    for (const listener of this.listeners) listener(event);
  }
}
