/**
 * Which entries can run which autoclusters. The match expression reads only a few entry
 * attributes (site, OS, memory, CPUs...) and many entries of a pool share their values, so
 * entries are partitioned into classes by the expression text of those attributes and the
 * expression is evaluated once per (autocluster, entry class) instead of once per (autocluster,
 * entry): with 2,000 entries in a few hundred classes that is several times fewer evaluations,
 * with the same answer since every entry of a class presents identical values to the expression.
 * Autoclusters are grouped the same way by the job attributes the expression reads: the schedd
 * splits jobs by every attribute any slot reads, most of which the frontend's expression ignores.
 */
import {
  ClassAd,
  ERROR,
  type CompiledExpr,
  type EvalBound,
  type EvalBudget,
  type Value,
  compileExpression,
  createEvalBudget,
  describeBound,
  references,
  signature,
} from "../classad/index.js";
import { toLogical } from "../classad/operators.js";
import type { FnContext } from "../classad/functions/index.js";
import { conjuncts, SELF_BASES, selectedNames } from "./expr-walk.js";
import { runToEnd, type Sliced } from "./slices.js";

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
  /** Conjunct evaluations done (each conjunct: its job classes x its entry classes). */
  readonly evaluations: number;
  /** Autoclusters whose evaluation met a bound (they match nothing this cycle), with which. */
  readonly overBound: ReadonlyMap<number, EvalBound>;
  /** The cycle's budget ran out: evaluations after it were not done (ERROR, no match). */
  readonly cycleExhausted: boolean;
}

/**
 * Steps an autocluster's attributes may take against all entries in one conjunct, and steps the
 * whole matrix may take: a job's attributes are a user's expressions, evaluated on the daemon's
 * loop each cycle.
 */
export interface MatchBounds {
  autoclusterSteps: number;
  cycleSteps: number;
}

export const DEFAULT_MATCH_BOUNDS: MatchBounds = {
  autoclusterSteps: 1_000_000,
  cycleSteps: 100_000_000,
};

/** What the matrix's evaluations share: the cycle's budget and which job classes met a bound. */
interface BudgetState {
  bounds: MatchBounds;
  cycle: EvalBudget;
  /** Job class (of the whole matrix) -> the bound it met. */
  overBound: Map<number, EvalBound>;
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

/**
 * Job attributes that matter: what the expression reads from MY or unscoped, and what the
 * entries' relevant attributes read from TARGET (an entry's `Fits = TARGET.RequestMemory < 4000`).
 */
export function jobAttributes(
  match: CompiledExpr,
  entryReps: readonly ClassAd[],
  entryAttrs: readonly string[],
): string[] {
  const names = new Set<string>();
  for (const n of references(match.expr, null).external) names.add(n);
  selectedNames(match.expr, SELF_BASES, names);
  for (const rep of entryReps) {
    for (const a of entryAttrs) {
      const e = rep.getExpr(a);
      if (e !== undefined) for (const n of references(e, rep).external) names.add(n);
    }
  }
  return [...names].sort();
}

/** Partition ads into classes of identical relevant attributes (and what those read). */
export function classify(
  ads: readonly ClassAd[],
  attrs: readonly string[],
): { classMembers: number[][]; classOf: Int32Array } {
  const byKey = new Map<string, number>();
  const classMembers: number[][] = [];
  const classOf = new Int32Array(ads.length);
  ads.forEach((ad, i) => {
    const key = signature(ad, attrs);
    let c = byKey.get(key);
    if (c === undefined) {
      c = classMembers.length;
      byKey.set(key, c);
      classMembers.push([]);
    }
    classMembers[c]!.push(i);
    classOf[i] = c;
  });
  return { classMembers, classOf };
}

// Three-valued (plus ERROR) results of one conjunct, as small codes for dense tables.
const FALSE = 0;
const TRUE = 1;
const UNDEF = 2;
const ERR = 3;

function code(v: Value): number {
  const l = typeof v === "boolean" ? v : toLogical(v);
  return l === true ? TRUE : l === false ? FALSE : l === ERROR ? ERR : UNDEF;
}

/** The `&&` operator on codes: false and ERROR on the left short-circuit, UNDEFINED yields. */
function and(a: number, b: number): number {
  if (a === FALSE || a === ERR) return a;
  if (a === TRUE) return b;
  return b === FALSE || b === ERR ? b : UNDEF;
}

/**
 * One top-level conjunct: its own, usually much coarser, classes of job classes and entry
 * classes (`stringListMember(TARGET.GLIDEIN_Site, ...)` sees only the site), and its value for
 * each (job subclass, entry subclass) pair.
 */
interface ConjunctTable {
  jobSub: Int32Array;
  entrySub: Int32Array;
  width: number;
  values: Uint8Array;
  thrown: (string | undefined)[];
}

/** Steps evaluated between reports to the slicer: far below a slice, far above one evaluation. */
const REPORT_STEPS = 5_000;

function* conjunctTable(
  part: CompiledExpr,
  jobReps: readonly ClassAd[],
  entryReps: readonly ClassAd[],
  options: { ctx: FnContext },
  state: BudgetState,
): Sliced<ConjunctTable> {
  const eAttrs = entryAttributes(part, jobReps, []);
  const eClasses = classify(entryReps, eAttrs);
  const eSubReps = eClasses.classMembers.map((m) => entryReps[m[0]!]!);
  const jClasses = classify(jobReps, jobAttributes(part, eSubReps, eAttrs));
  const width = eSubReps.length;
  const values = new Uint8Array(jClasses.classMembers.length * width);
  const thrown: (string | undefined)[] = [];
  let unreported = 0;
  for (let js = 0; js < jClasses.classMembers.length; js++) {
    const members = jClasses.classMembers[js]!;
    const job = jobReps[members[0]!]!;
    const allowed = Math.min(state.bounds.autoclusterSteps, Math.max(0, state.cycle.steps));
    const budget = createEvalBudget(allowed);
    const opts = { ctx: { ...options.ctx, budget } };
    for (let es = 0; es < width; es++) {
      let v: number;
      if (budget.hit !== null || budget.steps <= 0) {
        v = ERR;
      } else {
        const before = budget.steps;
        try {
          v = code(job.evaluateExpr(part, eSubReps[es]!, opts));
        } catch (err) {
          // The engine reports failures as ERROR; anything thrown is still one entry's problem.
          v = ERR;
          thrown[js * width + es] = `evaluation failed: ${(err as Error).message}`;
        }
        // A chance of a turn for the daemon's other work (see slices.ts), once enough steps are
        // spent: resuming the nested generators after every cheap evaluation slowed the match by a
        // quarter or more in the frontend bench.
        unreported += before - Math.max(0, budget.steps);
        if (unreported >= REPORT_STEPS) {
          yield unreported;
          unreported = 0;
        }
      }
      if (budget.hit !== null) v = ERR;
      values[js * width + es] = v;
    }
    state.cycle.steps -= allowed - Math.max(0, budget.steps);
    const hit = budget.hit ?? (budget.steps <= 0 ? "steps" : null);
    if (hit === null) continue;
    const ownFault = hit !== "steps" || allowed >= state.bounds.autoclusterSteps;
    if (!ownFault) state.cycle.hit = "steps";
    const message = ownFault
      ? `the job's attributes met ${describeBound(hit)} (${state.bounds.autoclusterSteps} steps per autocluster)`
      : "the cycle's evaluation step budget ran out before this autocluster";
    for (let es = 0; es < width; es++) thrown[js * width + es] ??= message;
    if (ownFault) for (const m of members) if (!state.overBound.has(m)) state.overBound.set(m, hit);
  }
  if (unreported > 0) yield unreported;
  return { jobSub: jClasses.classOf, entrySub: eClasses.classOf, width, values, thrown };
}

/**
 * Evaluate the match expression for every (autocluster, entry) pair, by classes: each top-level
 * conjunct is evaluated once per pair of its own classes, and the conjuncts' values are combined
 * with `&&` for each (job class, entry class). The combination is what the whole expression
 * would give, since conjuncts have no side effects and `&&` is associative on these four values.
 */
export function buildMatchMatrix(
  match: CompiledExpr,
  jobs: readonly ClassAd[],
  entries: readonly ClassAd[],
  configuredEntryAttrs: readonly string[],
  ctx: FnContext,
  bounds: MatchBounds = DEFAULT_MATCH_BOUNDS,
): MatchMatrix {
  return runToEnd(buildMatchMatrixSliced(match, jobs, entries, configuredEntryAttrs, ctx, bounds));
}

/** `buildMatchMatrix` yielding the steps of each evaluation (see slices.ts). */
export function* buildMatchMatrixSliced(
  match: CompiledExpr,
  jobs: readonly ClassAd[],
  entries: readonly ClassAd[],
  configuredEntryAttrs: readonly string[],
  ctx: FnContext,
  bounds: MatchBounds = DEFAULT_MATCH_BOUNDS,
): Sliced<MatchMatrix> {
  const attrs = entryAttributes(match, jobs, configuredEntryAttrs);
  const { classMembers, classOf: entryClass } = classify(entries, attrs);
  const reps = classMembers.map((m) => entries[m[0]!]!);
  const jobClasses = classify(jobs, jobAttributes(match, reps, attrs));
  const jobReps = jobClasses.classMembers.map((m) => jobs[m[0]!]!);
  const options = { ctx };
  const state: BudgetState = {
    bounds,
    cycle: createEvalBudget(bounds.cycleSteps),
    overBound: new Map(),
  };
  const tables: ConjunctTable[] = [];
  for (const e of conjuncts(match.expr)) {
    tables.push(yield* conjunctTable(compileExpression(e), jobReps, reps, options, state));
  }
  const errors: (MatchError | undefined)[] = new Array(reps.length).fill(undefined);
  const scratch = new Int32Array(reps.length);
  const perJobClass: Int32Array[] = [];
  jobClasses.classMembers.forEach((members, j) => {
    let n = 0;
    for (let c = 0; c < reps.length; c++) {
      let acc = TRUE;
      let thrown: string | undefined;
      for (const t of tables) {
        const cell = t.jobSub[j]! * t.width + t.entrySub[c]!;
        acc = and(acc, t.values[cell]!);
        if (acc === ERR) thrown = t.thrown[cell];
        if (acc === FALSE || acc === ERR) break;
      }
      if (acc === TRUE) scratch[n++] = c;
      else if (acc === ERR) {
        noteError(errors, c, thrown ?? "the match expression evaluated to ERROR", members);
      }
    }
    perJobClass.push(scratch.slice(0, n));
  });
  return {
    classMembers,
    entryClass,
    // Autoclusters of one job class share the (read-only) list.
    matches: Array.from(jobClasses.classOf, (jc) => perJobClass[jc]!),
    errors,
    evaluations: tables.reduce((s, t) => s + t.values.length, 0),
    overBound: autoclustersOverBound(state.overBound, jobClasses.classMembers),
    cycleExhausted: state.cycle.hit !== null,
  };
}

function autoclustersOverBound(
  byJobClass: ReadonlyMap<number, EvalBound>,
  members: readonly (readonly number[])[],
): Map<number, EvalBound> {
  const out = new Map<number, EvalBound>();
  for (const [jc, bound] of byJobClass) for (const a of members[jc]!) out.set(a, bound);
  return out;
}

/** Count the autoclusters (every member of the job class) that errored against class `c`. */
function noteError(
  errors: (MatchError | undefined)[],
  c: number,
  message: string,
  jobMembers: readonly number[],
): void {
  const e = errors[c];
  if (e === undefined) errors[c] = { count: jobMembers.length, message };
  else e.count += jobMembers.length;
}
