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

/** Key of an ad: type and name, both case-insensitive as in HTCondor. */
export function adKey(type: string, name: string): string {
  return `${type.toLowerCase()}\u0000${name.toLowerCase()}`;
}

/**
 * The collector's ad store: pure bookkeeping with no IO and no timers. Callers pass `now` and drive
 * expiry with `expire(now)`; every change is reported to the listeners synchronously, in order.
 */
export class AdStore<A> {
  private readonly byType = new Map<string, Map<string, Entry<A>>>();
  private readonly perIdentity = new Map<string, number>();
  private readonly deadlines = new ExpiryQueue();
  private readonly listeners = new Set<(e: StoreEvent<A>) => void>();
  private generation = 0;
  private total = 0;

  constructor(private readonly limits: StoreLimits) {}

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
    // Tables are per type, so the lower-case name alone is the key: no string built per update.
    const key = name.toLowerCase();
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

  get(type: string, name: string): StoredAd<A> | undefined {
    return this.byType.get(type.toLowerCase())?.get(name.toLowerCase())?.stored;
  }

  /** Remove one ad; only its writer or an admin may. Absent ads are not an error (idempotent). */
  invalidate(
    type: string,
    name: string,
    writer: { identity: string; admin: boolean },
  ): { ok: true; removed: boolean } | { ok: false; code: "not-owner"; message: string } {
    const table = this.table(type, false);
    const entry = table?.get(name.toLowerCase());
    if (!table || !entry) return { ok: true, removed: false };
    if (entry.stored.identity !== writer.identity && !writer.admin) {
      return {
        ok: false,
        code: "not-owner",
        message: `${type} ad '${name}' belongs to ${entry.stored.identity}`,
      };
    }
    this.remove(table, name.toLowerCase(), entry);
    this.emit({ kind: "invalidated", ad: entry.stored });
    return { ok: true, removed: true };
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
