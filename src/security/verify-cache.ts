/**
 * A bounded cache of verification verdicts keyed by a hash of the chain's bytes. A verdict that
 * depends on the clock carries the window in which it holds; outside it the chain is checked
 * again. Each trust store owns one cache, so reloading CRLs (a new store) starts afresh.
 */
import { createHash } from "node:crypto";

export interface CachedVerdict<T = unknown> {
  verdict: T;
  /** The verdict holds for `validFrom <= now <= validUntil`. */
  validFrom: number;
  validUntil: number;
}

export interface VerifyCache {
  get(key: string, now: Date): unknown;
  set(key: string, entry: CachedVerdict): void;
  readonly size: number;
}

export const DEFAULT_CACHE_ENTRIES = 4096;

export function createVerifyCache(maxEntries = DEFAULT_CACHE_ENTRIES): VerifyCache {
  const entries = new Map<string, CachedVerdict>();
  return {
    get(key, now) {
      const e = entries.get(key);
      if (!e) return undefined;
      const t = now.getTime();
      if (t < e.validFrom || t > e.validUntil) {
        entries.delete(key);
        return undefined;
      }
      // Map keeps insertion order: re-inserting makes this the most recently used.
      entries.delete(key);
      entries.set(key, e);
      return e.verdict;
    },
    set(key, entry) {
      entries.delete(key);
      entries.set(key, entry);
      while (entries.size > maxEntries) {
        const oldest = entries.keys().next().value as string;
        entries.delete(oldest);
      }
    },
    get size() {
      return entries.size;
    },
  };
}

/** The cache key: SHA-256 over each certificate's length and bytes, in order. */
export function chainKey(chainDer: readonly Buffer[]): string {
  const h = createHash("sha256");
  for (const der of chainDer) {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(der.length);
    h.update(len).update(der);
  }
  return h.digest("hex");
}
