/**
 * Why a job does or does not get pilots at each entry, like `condor_q -better-analyze`: the
 * match expression's top-level `&&` clauses are evaluated one by one against each entry the
 * factory query selects, and the ones that are not true are named. A group that serves only some
 * schedds says so, and passes over a job held by another.
 */
import {
  ClassAd,
  type Value,
  compileExpression,
  isTrueEquivalent,
  unparseExpr,
  unparseValue,
} from "../classad/index.js";
import type { FnContext } from "../classad/functions/index.js";
import { conjuncts } from "./expr-walk.js";
import type { GroupPolicy } from "./group-policy.js";
import type { Snapshot } from "./snapshot.js";
import { COMMON, GLIDE_FACTORY } from "../ads/names.js";

export interface FailedClause {
  /** The clause as text. */
  clause: string;
  /** What it evaluated to (`false`, `undefined`, `error`...). */
  value: string;
}

export interface EntryVerdict {
  entry: string;
  matches: boolean;
  inDowntime: boolean;
  /** Top-level clauses of the match expression that do not hold (empty when it matches). */
  failed: FailedClause[];
}

export interface JobExplanation {
  group: string;
  /** False when the group's job query excludes the job (no entry is considered then). */
  selectedByJobQuery: boolean;
  /** The schedds the group serves, when it names them (jobs elsewhere get no pilots from it). */
  schedds?: string[];
  /**
   * False when the job's schedd is known and not among the group's `schedds` (no entry is
   * considered then); true otherwise.
   */
  servedSchedd: boolean;
  entries: EntryVerdict[];
}

function show(v: Value): string {
  return unparseValue(v);
}

export function explainJob(
  policy: GroupPolicy,
  job: ClassAd,
  snapshot: Snapshot,
  now: number,
  schedd?: string,
): JobExplanation {
  const options = { ctx: { now: () => now } satisfies FnContext };
  const scope = policy.schedds ? { schedds: [...policy.schedds] } : {};
  const servedSchedd =
    schedd === undefined || policy.schedds === undefined || policy.schedds.includes(schedd);
  const selectedByJobQuery = isTrueEquivalent(job.evaluateExpr(policy.jobQuery, null, options));
  if (!servedSchedd)
    return { group: policy.name, selectedByJobQuery, ...scope, servedSchedd, entries: [] };
  const clauses = conjuncts(policy.match.expr).map((e) => ({
    text: unparseExpr(e),
    compiled: compileExpression(e),
  }));
  const entries: EntryVerdict[] = [];
  for (const attrs of snapshot.factory_ads) {
    let ad: ClassAd;
    try {
      ad = ClassAd.fromJSON(attrs);
    } catch {
      continue;
    }
    if (!isTrueEquivalent(ad.evaluateExpr(policy.factoryQuery, null, options))) continue;
    const name = ad.evaluate(COMMON.Name);
    const downtime = ad.evaluate(GLIDE_FACTORY.InDowntime);
    const matches = isTrueEquivalent(job.evaluateExpr(policy.match, ad, options));
    const failed: FailedClause[] = [];
    if (!matches) {
      for (const c of clauses) {
        const v = job.evaluateExpr(c.compiled, ad, options);
        if (!isTrueEquivalent(v)) failed.push({ clause: c.text, value: show(v) });
      }
    }
    entries.push({
      entry: typeof name === "string" ? name : "(no Name)",
      matches,
      inDowntime:
        downtime === true || (typeof downtime === "string" && downtime.toLowerCase() === "true"),
      failed,
    });
  }
  return { group: policy.name, selectedByJobQuery, ...scope, servedSchedd, entries };
}
