/**
 * The collector's RPC methods: decode the request, ask the core, encode the answer. Queries and
 * watches stream pages so an answer of any size fits in bounded frames.
 */
import { type ClassAd, type EvalBound, createEvalBudget, describeBound } from "../classad/index.js";
import { ROLES } from "../security/authz.js";
import { InvalidArgumentError, ResourceExhaustedError } from "../wire/errors.js";
import type { CallContext, StreamSink } from "../wire/registry.js";
import type { RpcServer } from "../wire/server.js";
import { projectAd, wireSize } from "./ad-build.js";
import type { CollectorCore } from "./collector.js";
import { DEFAULT_QUERY_BOUNDS, type QueryBounds, selectSliced } from "./query-eval.js";
import { Watch, WatchFellBehind } from "./watch.js";

import {
  type AdBatch,
  type AdChange,
  type AdOutcomes,
  type AdPage,
  type AdQuery,
  type AdSelector,
  collectorCodecs,
  type WireAd,
} from "./codecs.js";

export {
  type AdBatch,
  type AdChange,
  type AdOutcomes,
  type AdPage,
  type AdQuery,
  type AdSelector,
  collectorCodecs,
};

export interface CollectorServiceOptions {
  /** Most watches open at once. */
  maxWatchers: number;
  /** Changes a watch may queue for a slow reader before it fails. */
  maxQueuedChanges?: number;
  /** Target size of one query page. */
  pageBytes?: number;
  /** Bounds on constraint evaluation (defaults: DEFAULT_QUERY_BOUNDS). */
  queryBounds?: QueryBounds;
  /** Told of each query as it ends: the ad type asked for ("" for any) and how it ended. */
  onQuery?: (type: string, result: QueryResult) => void;
}

/**
 * How a query ended: answered, refused for its constraint (does not parse), stopped at an
 * evaluation bound, or failed otherwise (the client went away mid-answer, say).
 */
export type QueryResult = "ok" | "invalid" | "exhausted" | "failed";

/** The refusal of a query whose constraint met an evaluation bound, naming the bound. */
function boundRefusal(bound: EvalBound, where: string): Error {
  return new ResourceExhaustedError(
    `the constraint ${where} exceeded ${describeBound(bound)}; narrow it (type, fewer string ` +
      `and regexp calls) or ask the collector's administrator to raise limits.query_step_budget`,
  );
}

const READ_ROLES = ["read", "admin"];

export function registerCollectorService(
  server: Pick<RpcServer, "unary" | "stream">,
  core: CollectorCore,
  opts: CollectorServiceOptions,
): { readonly watchers: number } {
  const c = collectorCodecs;
  const pageBytes = opts.pageBytes ?? 512 * 1024;
  const bounds = opts.queryBounds ?? DEFAULT_QUERY_BOUNDS;
  let watchers = 0;

  // Who may write which type is decided per ad by the core; any known role may call.
  server.unary(
    "collector.Advertise",
    { roles: ROLES, request: c.rawBatch, response: c.outcomes },
    (req, ctx) => {
      const outcomes = core.advertiseBatch(req, ctx);
      for (const o of outcomes) {
        if (!o.ok)
          ctx.log.info(
            { code: o.code, type: o.type, name: o.name, reason: o.message },
            "ad refused",
          );
      }
      return { outcomes };
    },
  );

  server.unary(
    "collector.Invalidate",
    { roles: ROLES, request: c.selector, response: c.invalidated },
    (req, ctx) => {
      const sel = { type: req.type ?? "", name: req.name ?? "", constraint: req.constraint ?? "" };
      const r = core.invalidate(sel, ctx);
      if (!r.ok) throw new InvalidArgumentError(r.message);
      return r.outcome;
    },
  );

  server.stream(
    "collector.Query",
    { roles: READ_ROLES, request: c.query, response: c.page },
    async (req, sink, ctx) => {
      let result: QueryResult = "failed";
      try {
        await answerQuery(req, sink, ctx, (r) => (result = r));
      } finally {
        opts.onQuery?.(req.type ?? "", result);
      }
    },
  );

  async function answerQuery(
    req: AdQuery,
    sink: StreamSink<AdPage>,
    ctx: CallContext,
    ended: (r: QueryResult) => void,
  ): Promise<void> {
    const budget = createEvalBudget(bounds.queryStepBudget);
    const constraint = core.constraint(req.constraint ?? "", budget);
    if (!constraint.ok) {
      ended("invalid");
      throw new InvalidArgumentError(constraint.message);
    }
    // Candidates fixed up front: a consistent answer however many slices and pages it takes.
    const selection = await selectSliced(core.store, req.type ?? "", constraint.test, {
      limit: req.limit ?? 0,
      budget,
      sliceSeconds: bounds.sliceSeconds,
      signal: ctx.signal,
    });
    if (!selection.ok) {
      ended("exhausted");
      throw boundRefusal(selection.bound, `stopped after ${selection.tested} ads:`);
    }
    const chosen = selection.chosen;
    const projection = req.projection ?? [];
    let page: WireAd[] = [];
    let bytes = 0;
    for (const s of chosen) {
      const attrs = projectAd(s.ad, projection);
      page.push({ attrs });
      bytes += wireSize(attrs);
      if (bytes >= pageBytes) {
        await sink.write({ ads: page });
        page = [];
        bytes = 0;
      }
    }
    if (page.length > 0 || chosen.length === 0) await sink.write({ ads: page });
    ended("ok");
  }

  server.stream(
    "collector.Watch",
    { roles: READ_ROLES, request: c.query, response: c.change },
    async (req, sink, ctx) => {
      // A watch lives long: its budget is per ad tested, refilled before each one.
      const budget = createEvalBudget(bounds.watchStepBudget);
      const constraint = core.constraint(req.constraint ?? "", budget);
      if (!constraint.ok) throw new InvalidArgumentError(constraint.message);
      const test = constraint.test;
      const perAd = (ad: ClassAd): boolean => {
        budget.steps = bounds.watchStepBudget;
        budget.hit = null;
        return test(ad);
      };
      if (watchers >= opts.maxWatchers) {
        throw new ResourceExhaustedError(`the collector already serves ${watchers} watches`);
      }
      const projection = req.projection ?? [];
      const watch = new Watch(core.store, {
        type: req.type ?? "",
        test: perAd,
        maxQueued: opts.maxQueuedChanges ?? 100_000,
      });
      watchers++;
      try {
        for await (const item of watch.changes(ctx.signal)) {
          const ad: ClassAd | null = item.ad;
          await sink.write(
            ad === null
              ? { kind: item.kind }
              : { kind: item.kind, ad: { attrs: projectAd(ad, projection) } },
          );
        }
      } catch (err) {
        if (err instanceof WatchFellBehind) throw new ResourceExhaustedError(err.message);
        throw err;
      } finally {
        watchers--;
        watch.close();
      }
    },
  );

  return {
    get watchers() {
      return watchers;
    },
  };
}
