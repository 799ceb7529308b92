/**
 * Typed calls to a collector over an RPC client, for daemons and the command line: advertise,
 * invalidate, query (pages gathered) and watch.
 */
import type { CallOptions, RpcClient } from "../wire/index.js";
import type { InvalidateOutcome } from "./collector.js";
import {
  type AdChange,
  type AdOutcomes,
  type AdQuery,
  type AdSelector,
  collectorCodecs as c,
} from "./codecs.js";

export type WireAttrs = Record<string, string>;

export interface CollectorClient {
  advertise(ads: WireAttrs[], type?: string, opts?: CallOptions): Promise<AdOutcomes["outcomes"]>;
  invalidate(sel: AdSelector, opts?: CallOptions): Promise<InvalidateOutcome>;
  query(q: AdQuery, opts?: CallOptions): Promise<WireAttrs[]>;
  watch(q: AdQuery, opts?: CallOptions): AsyncIterable<{ kind: string; ad: WireAttrs | null }>;
}

export function createCollectorClient(rpc: RpcClient): CollectorClient {
  const advertise = rpc.unaryMethod("collector.Advertise", {
    request: c.batch,
    response: c.outcomes,
  });
  const invalidate = rpc.unaryMethod("collector.Invalidate", {
    request: c.selector,
    response: c.invalidated,
  });
  const query = rpc.streamMethod("collector.Query", { request: c.query, response: c.page });
  const watch = rpc.streamMethod("collector.Watch", { request: c.query, response: c.change });
  return {
    async advertise(ads, type = "", opts) {
      const r = await advertise({ ads: ads.map((attrs) => ({ attrs })), type }, opts);
      return r.outcomes.map((o) => ({ ...plain(o) }));
    },
    async invalidate(sel, opts) {
      const r = await invalidate(sel, opts);
      return { removed: r.removed, refused: r.refused, message: r.message };
    },
    async query(q, opts) {
      const out: WireAttrs[] = [];
      for await (const page of query(q, { idempotent: true, ...opts })) {
        for (const ad of page.ads) out.push({ ...ad.attrs });
      }
      return out;
    },
    async *watch(q, opts) {
      for await (const change of watch(q, opts) as AsyncIterable<AdChange>) {
        yield { kind: change.kind, ad: change.ad ? { ...change.ad.attrs } : null };
      }
    },
  };
}

/** Decoded messages read unset fields from their prototype; copy them into a plain object. */
function plain(o: AdOutcomes["outcomes"][number]): AdOutcomes["outcomes"][number] {
  return {
    ok: o.ok,
    code: o.code,
    message: o.message,
    attribute: o.attribute,
    replaced: o.replaced,
    type: o.type,
    name: o.name,
  };
}
