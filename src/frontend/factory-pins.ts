/**
 * Factory identity pinning: the frontend encrypts its pilot credential to the key in a
 * GlideFactory ad, so it must know who wrote that ad. The collector stamps every ad with the
 * writer's authenticated identity; an entry counts only when its factory is pinned in the
 * configuration and the stamp is the identity pinned for it (glideinWMS' factory_identity).
 */
import { readGlideFactory } from "../ads/index.js";
import { ClassAd, tryParse } from "../classad/index.js";

export interface FactoryPin {
  name: string;
  identity: string;
}

export type PinVerdict =
  | { ok: true }
  | {
      ok: false;
      reason: "unpinned_factory" | "wrong_identity" | "unreadable";
      factory?: string;
      identity?: string;
    };

/** Whether a GlideFactory ad in wire form was written by the identity pinned for its factory. */
export function checkFactoryPin(
  ad: Readonly<Record<string, string>>,
  pins: readonly FactoryPin[],
): PinVerdict {
  const parsed = tryParse(() => ClassAd.fromJSON(ad));
  if (!parsed.ok) return { ok: false, reason: "unreadable" };
  const { factoryName: factory, authenticatedIdentity: identity } = readGlideFactory(parsed.value);
  if (factory === undefined || identity === undefined) {
    return { ok: false, reason: "unreadable", factory, identity };
  }
  const pin = pins.find((p) => p.name === factory);
  if (!pin) return { ok: false, reason: "unpinned_factory", factory, identity };
  // Exact comparison: a DN is an identity, not a pattern.
  if (pin.identity !== identity) return { ok: false, reason: "wrong_identity", factory, identity };
  return { ok: true };
}

export interface FactoryPinFilterOptions {
  pins: readonly FactoryPin[];
  /** Called at most once per (factory, identity, reason) per `log_interval_ms`. */
  onRefused: (v: Extract<PinVerdict, { ok: false }>, count: number) => void;
  log_interval_ms?: number;
  /** Milliseconds since the epoch. */
  now?: () => number;
}

export interface FactoryPinFilter {
  /** The ads whose writer is pinned; the others are dropped and reported (rate-limited). */
  filter(ads: readonly Record<string, string>[]): Record<string, string>[];
}

const MAX_TRACKED = 1_000;

export function createFactoryPinFilter(options: FactoryPinFilterOptions): FactoryPinFilter {
  const interval = options.log_interval_ms ?? 10 * 60_000;
  const now = options.now ?? Date.now;
  // key -> [last reported at, refusals since]
  const seen = new Map<string, [number, number]>();
  return {
    filter(ads) {
      const kept: Record<string, string>[] = [];
      for (const ad of ads) {
        const v = checkFactoryPin(ad, options.pins);
        if (v.ok) {
          kept.push(ad);
          continue;
        }
        const key = `${v.reason}\0${v.factory ?? ""}\0${v.identity ?? ""}`;
        const t = now();
        const entry = seen.get(key);
        if (entry && t - entry[0] < interval) {
          entry[1]++;
          continue;
        }
        // A forger can vary the names; the table stays bounded and only costs extra log lines.
        if (seen.size >= MAX_TRACKED) seen.clear();
        seen.set(key, [t, 0]);
        options.onRefused(v, (entry?.[1] ?? 0) + 1);
      }
      return kept;
    },
  };
}
