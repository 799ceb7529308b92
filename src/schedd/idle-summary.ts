/**
 * The frontend's view of idle jobs, pure: autoclusters that pass the constraint, regrouped by the
 * frontend's match attributes (jobs identical in those are one group), each with a count, counts
 * per owner and one representative ad. Works on autoclusters, never on single jobs, which is why
 * the queue makes the match and constraint attributes significant first.
 */
import { isTrueEquivalent, signature, type ClassAd, type CompiledExpr } from "../classad/index.js";

export interface SummarySource {
  representative: ClassAd;
  ownerCounts: ReadonlyMap<string, number>;
  idleCount: number;
}

export interface SummaryGroup {
  count: number;
  owners: Record<string, number>;
  representative: ClassAd;
}

export function summarizeIdle(
  sources: Iterable<SummarySource>,
  constraint: CompiledExpr | undefined,
  matchAttributes: readonly string[],
  nowS: number,
): SummaryGroup[] {
  const groups = new Map<string, SummaryGroup>();
  const ctx = { ctx: { now: () => nowS } };
  for (const s of sources) {
    if (s.idleCount === 0) continue;
    if (constraint && !isTrueEquivalent(s.representative.evaluateExpr(constraint, null, ctx))) {
      continue;
    }
    const key = signature(s.representative, matchAttributes);
    let g = groups.get(key);
    if (g === undefined) {
      g = { count: 0, owners: {}, representative: s.representative };
      groups.set(key, g);
    }
    g.count += s.idleCount;
    for (const [owner, n] of s.ownerCounts) if (n > 0) g.owners[owner] = (g.owners[owner] ?? 0) + n;
  }
  return [...groups.values()];
}
