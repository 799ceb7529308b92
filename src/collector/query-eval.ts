/**
 * Constraint evaluation for queries: one step budget per query, and the ads tested in slices of a
 * few milliseconds with a yield to the event loop between them, so that a costly constraint from
 * one client slows only that client's answer.
 */
import { setImmediate as yieldToLoop } from "node:timers/promises";
import type { ClassAd, EvalBound, EvalBudget } from "../classad/index.js";
import type { AdStore, StoredAd } from "./store.js";

export interface QueryBounds {
  /** Steps one query's constraint may take over all the ads it tests. */
  queryStepBudget: number;
  /** Steps a watch's constraint may take on one ad. */
  watchStepBudget: number;
  /** Longest stretch of constraint evaluation before yielding to other clients, in seconds. */
  sliceSeconds: number;
}

export const DEFAULT_QUERY_BOUNDS: QueryBounds = {
  queryStepBudget: 20_000_000,
  watchStepBudget: 1_000_000,
  sliceSeconds: 0.02,
};

export type Selection =
  { ok: true; chosen: StoredAd<ClassAd>[] } | { ok: false; bound: EvalBound; tested: number };

/** How many ads are tested between looks at the clock. */
const CLOCK_EVERY = 32;

/**
 * Ads of `type` (every type when empty) accepted by `test`, at most `limit` (0: no limit). The
 * candidates are fixed first, so the answer is one consistent set however many slices it takes;
 * a bound met in `budget` ends the query.
 */
export async function selectSliced(
  store: AdStore<ClassAd>,
  type: string,
  test: (ad: ClassAd) => boolean,
  opts: { limit: number; budget: EvalBudget; sliceSeconds: number; signal?: AbortSignal },
): Promise<Selection> {
  const candidates: StoredAd<ClassAd>[] = [];
  store.scan(type === "" ? undefined : type, (s) => {
    candidates.push(s);
    return true;
  });
  const max = opts.limit > 0 ? opts.limit : Infinity;
  const sliceMs = opts.sliceSeconds * 1000;
  const chosen: StoredAd<ClassAd>[] = [];
  let sliceStart = performance.now();
  for (let i = 0; i < candidates.length && chosen.length < max; i++) {
    const s = candidates[i]!;
    if (test(s.ad)) chosen.push(s);
    if (opts.budget.hit !== null) return { ok: false, bound: opts.budget.hit, tested: i + 1 };
    if (i % CLOCK_EVERY === CLOCK_EVERY - 1 && performance.now() - sliceStart >= sliceMs) {
      await yieldToLoop();
      if (opts.signal?.aborted === true) return { ok: true, chosen };
      sliceStart = performance.now();
    }
  }
  return { ok: true, chosen };
}
