/**
 * Schedds found through their Scheduler ads at the pool's collector (`schedds: all` or a
 * constraint), as HTCondor's tools find schedds. Anyone with the daemon role could advertise a
 * Scheduler ad, and the frontend hands the addresses to pilots carrying its credential, so an ad
 * counts only when the collector stamped it with an identity `security.schedd_identities` admits
 * (exact or a pattern as in authorization rules: `*` stops at `/`, `**` spans), and
 * its address must be a wss:// URL of sane length. Choosing is pure; the directory around it
 * keeps one connection per schedd across cycles and closes those whose schedd went away.
 */
import { AD_TYPE, COMMON, readScheduler } from "../ads/index.js";
import { ClassAd, tryParse } from "../classad/index.js";
import type { CollectorClient } from "../collector/client.js";
import type { Logger } from "../common/logger.js";
import { scheddClient, type ScheddClient } from "../schedd/client.js";
import type { RpcClient } from "../wire/index.js";
import { identityMatcher } from "../security/authz.js";

/** Schedds one frontend follows at most: more is an attack or a mistake, not a pool. */
export const MAX_FOUND_SCHEDDS = 256;
const MAX_ADDRESS_LENGTH = 1024;
/**
 * Refusals kept by name for the log; the rest are only counted, since anyone with the daemon
 * role can write as many Scheduler ads, with names as long, as the collector holds.
 */
export const MAX_REFUSALS_KEPT = 32;
const MAX_REFUSAL_TEXT = 200;

export type ScheddAdRefusal = {
  name?: string;
  identity?: string;
  reason: "untrusted_writer" | "bad_address" | "unreadable" | "over_limit";
};

export interface FoundSchedds {
  /** Addresses of trusted schedds, each once, sorted: the order pilots ask them in. */
  urls: string[];
  /** The first MAX_REFUSALS_KEPT ads ignored, with why. */
  refused: ScheddAdRefusal[];
  /** Ads ignored past those. */
  refusedMore: number;
}

function goodAddress(address: string | undefined): address is string {
  if (address === undefined || address.length > MAX_ADDRESS_LENGTH) return false;
  if (!/^wss:\/\/[^\s/?#]+(\/\S*)?$/.test(address)) return false;
  try {
    return new URL(address).protocol === "wss:";
  } catch {
    return false;
  }
}

/** The trusted schedds among Scheduler ads in wire form. */
export function trustedSchedds(
  ads: readonly Readonly<Record<string, string>>[],
  trusted: readonly string[],
): FoundSchedds {
  const patterns = trusted.map(identityMatcher);
  const allowed = (identity: string) => patterns.some((m) => m(identity));
  const urls = new Set<string>();
  const kept: ScheddAdRefusal[] = [];
  let refusedMore = 0;
  const cut = (t: string | undefined) => t?.slice(0, MAX_REFUSAL_TEXT);
  const refused = {
    push(r: ScheddAdRefusal) {
      if (kept.length >= MAX_REFUSALS_KEPT) refusedMore++;
      else {
        const name = cut(r.name);
        const identity = cut(r.identity);
        kept.push({
          ...(name !== undefined ? { name } : {}),
          ...(identity !== undefined ? { identity } : {}),
          reason: r.reason,
        });
      }
    },
  };
  for (const attrs of ads) {
    const parsed = tryParse(() => ClassAd.fromJSON(attrs));
    if (!parsed.ok) {
      refused.push({ reason: "unreadable" });
      continue;
    }
    const ad = parsed.value;
    const { name, address } = readScheduler(ad);
    const identity = ad.getString(COMMON.AuthenticatedIdentity);
    if (identity === undefined || !allowed(identity)) {
      refused.push({ name, identity, reason: "untrusted_writer" });
    } else if (!goodAddress(address)) {
      refused.push({ name, identity, reason: "bad_address" });
    } else if (urls.size >= MAX_FOUND_SCHEDDS && !urls.has(address)) {
      refused.push({ name, identity, reason: "over_limit" });
    } else {
      urls.add(address);
    }
  }
  return { urls: [...urls].sort(), refused: kept, refusedMore };
}

export interface ScheddDirectory {
  /** The trusted schedds now, connected; throws when the collector does not answer. */
  find(): Promise<{ url: string; client: ScheddClient }[]>;
  close(): Promise<void>;
}

export interface ScheddDirectoryOptions {
  collector: CollectorClient;
  constraint: string;
  trusted: readonly string[];
  connect: (url: string) => RpcClient;
  timeoutMs: number;
  log: Logger;
}

export function createScheddDirectory(o: ScheddDirectoryOptions): ScheddDirectory {
  const open = new Map<string, ScheddClient>();
  // Refusals are logged when they change, not every cycle.
  let lastRefused = "";
  return {
    async find() {
      const ads = await o.collector.query(
        { type: AD_TYPE.Scheduler, constraint: o.constraint },
        { deadlineMs: o.timeoutMs },
      );
      const found = trustedSchedds(ads, o.trusted);
      const refusedKey = JSON.stringify([found.refused, found.refusedMore]);
      if (found.refused.length > 0 && refusedKey !== lastRefused) {
        const more = found.refusedMore > 0 ? { more: found.refusedMore } : {};
        o.log.warn({ refused: found.refused, ...more }, "Scheduler ads ignored");
      }
      lastRefused = refusedKey;
      for (const [url, client] of open) {
        if (found.urls.includes(url)) continue;
        open.delete(url);
        void client.rpc.close();
      }
      return found.urls.map((url) => {
        let client = open.get(url);
        if (!client) {
          client = scheddClient(o.connect(url));
          open.set(url, client);
          o.log.info({ schedd: url }, "schedd found through its Scheduler ad");
        }
        return { url, client };
      });
    },
    async close() {
      await Promise.all([...open.values()].map((c) => c.rpc.close()));
      open.clear();
    },
  };
}
