/**
 * Watches the collector's GlideClient ads so that a frontend's new or changed request starts a
 * factory cycle at once rather than at the next `cycle_s`: a pool's first pilots then leave
 * within a collector round trip of the frontend's decision. Frontends re-advertise every cycle;
 * only a change of what the factory decides on (the numbers it is asked for, an ad going away)
 * wakes it. The cycle itself still reads every ad and decides as before.
 */
import { AD_TYPE, COMMON, GLIDE_CLIENT as A } from "../ads/index.js";
import type { CollectorClient } from "../collector/client.js";
import type { Logger } from "../common/logger.js";
import { backoffDelay } from "../wire/backoff.js";

/** What a factory decides on in a request; a change of any of them wakes it. */
const DECIDED_ON = [
  A.ReqGlidein,
  A.ReqIdleGlideins,
  A.ReqMaxGlideins,
  A.ReqRemoveExcess,
  A.ReqRemoveExcessMargin,
] as const;

/**
 * Per ad name, the values seen last; `changed` says whether a watch event is news for a factory
 * named `factory`. Pure, so the rule is tested without a collector.
 */
export function createRequestMemory(factory: string) {
  const seen = new Map<string, string>();
  // ReqGlidein as the wire carries it: ClassAd string text, "entry@factory" in quotes.
  const forUs = (ad: Record<string, string>) => (ad[A.ReqGlidein] ?? "").endsWith(`@${factory}"`);
  return {
    /** `kind` as a collector watch sends it: present, upserted, or a removal. */
    changed(kind: string, ad: Record<string, string> | null): boolean {
      if (!ad) return false; // `synced`: the initial set is complete
      const name = ad[COMMON.Name] ?? "";
      const removal = kind !== "present" && kind !== "upserted";
      if (removal || !forUs(ad)) return seen.delete(name);
      const key = DECIDED_ON.map((n) => ad[n] ?? "").join("\u0000");
      const before = seen.get(name);
      seen.set(name, key);
      // The set a watch starts with is what the scheduled cycles already see.
      return kind === "upserted" && before !== key;
    },
  };
}

export interface RequestWatch {
  stop(): void;
}

/**
 * Calls `onChange` whenever a request to `factory` appears, changes what it asks for, or goes.
 * The watch is opened again after a failure, with backoff; the ads a (re)opened watch starts
 * with are only remembered (a change while it was closed waits for the scheduled cycle).
 */
export function watchRequests(
  collector: CollectorClient,
  factory: string,
  onChange: () => void,
  log?: Logger,
): RequestWatch {
  const abort = new AbortController();
  void (async () => {
    for (let attempt = 0; !abort.signal.aborted; attempt++) {
      const memory = createRequestMemory(factory);
      try {
        const changes = collector.watch(
          { type: AD_TYPE.GlideClient, projection: [COMMON.Name, ...DECIDED_ON] },
          { signal: abort.signal },
        );
        for await (const { kind, ad } of changes) {
          attempt = 0;
          if (memory.changed(kind, ad)) onChange();
        }
      } catch (err) {
        if (abort.signal.aborted) return;
        log?.debug({ err }, "watching GlideClient ads failed; cycles still run on their interval");
      }
      await new Promise((r) => setTimeout(r, backoffDelay(attempt)).unref());
    }
  })();
  return { stop: () => abort.abort() };
}
