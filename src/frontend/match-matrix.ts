/**
 * Which entries can run which autoclusters. The match expression reads only a few entry
 * attributes (site, OS, memory, CPUs...) and many entries of a pool share their values, so
 * entries are partitioned into classes by the expression text of those attributes and the
 * expression is evaluated once per (autocluster, entry class) instead of once per (autocluster,
 * entry): with 2,000 entries in a few hundred classes that is several times fewer evaluations,
 * with the same answer since every entry of a class presents identical values to the expression.
 */
import {
  ClassAd,
  ERROR,
  type CompiledExpr,
  isTrueEquivalent,
  references,
  signature,
} from "../classad/index.js";
import type { FnContext } from "../classad/functions/index.js";

export interface MatchError {
  /** Autoclusters whose evaluation against this entry ended in ERROR. */
  count: number;
  /** What the first failure was, for the operator. */
  message: string;
}

export interface MatchMatrix {
  /** Entry indices of each class. */
  readonly classMembers: readonly (readonly number[])[];
  /** Class index of each entry. */
  readonly entryClass: Int32Array;
  /** Per autocluster, the classes it matches (ascending). */
  readonly matches: readonly Int32Array[];
  /** Per class, evaluation errors (treated as no match), when any. */
  readonly errors: readonly (MatchError | undefined)[];
  /** Expression evaluations done (for the benchmark's and tests' eyes). */
  readonly evaluations: number;
}

/**
 * Entry attributes that matter: what the expression reads from TARGET, in general and through
 * each job's own attributes (a job's `MyRequirements = TARGET.Memory >= 2000` read via MY).
 */
export function entryAttributes(
  match: CompiledExpr,
  jobs: readonly ClassAd[],
  configured: readonly string[],
): string[] {
  const names = new Set(configured.map((n) => n.toLowerCase()));
  for (const n of references(match.expr, null).external) names.add(n);
  for (const job of jobs) for (const n of references(match.expr, job).external) names.add(n);
  return [...names].sort();
}

/** Partition entries into classes of identical relevant attributes. */
export function classifyEntries(
  entries: readonly ClassAd[],
  attrs: readonly string[],
): { classMembers: number[][]; entryClass: Int32Array } {
  const byKey = new Map<string, number>();
  const classMembers: number[][] = [];
  const entryClass = new Int32Array(entries.length);
  entries.forEach((ad, i) => {
    const key = signature(ad, attrs);
    let c = byKey.get(key);
    if (c === undefined) {
      c = classMembers.length;
      byKey.set(key, c);
      classMembers.push([]);
    }
    classMembers[c]!.push(i);
    entryClass[i] = c;
  });
  return { classMembers, entryClass };
}

/** Evaluate the match expression for every (autocluster, entry class) pair. */
export function buildMatchMatrix(
  match: CompiledExpr,
  jobs: readonly ClassAd[],
  entries: readonly ClassAd[],
  configuredEntryAttrs: readonly string[],
  ctx: FnContext,
): MatchMatrix {
  const attrs = entryAttributes(match, jobs, configuredEntryAttrs);
  const { classMembers, entryClass } = classifyEntries(entries, attrs);
  const reps = classMembers.map((m) => entries[m[0]!]!);
  const errors: (MatchError | undefined)[] = new Array(reps.length).fill(undefined);
  const options = { ctx };
  const scratch = new Int32Array(reps.length);
  const matches: Int32Array[] = [];
  for (const job of jobs) {
    let n = 0;
    for (let c = 0; c < reps.length; c++) {
      let v;
      try {
        v = job.evaluateExpr(match, reps[c]!, options);
      } catch (err) {
        // The engine reports failures as ERROR; anything thrown is still one entry's problem.
        v = ERROR;
        noteError(errors, c, `evaluation failed: ${(err as Error).message}`);
        continue;
      }
      if (v === ERROR) noteError(errors, c, "the match expression evaluated to ERROR");
      else if (isTrueEquivalent(v)) scratch[n++] = c;
    }
    matches.push(scratch.slice(0, n));
  }
  return {
    classMembers,
    entryClass,
    matches,
    errors,
    evaluations: jobs.length * reps.length,
  };
}

function noteError(errors: (MatchError | undefined)[], c: number, message: string): void {
  const e = errors[c];
  if (e === undefined) errors[c] = { count: 1, message };
  else e.count++;
}
