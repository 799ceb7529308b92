/**
 * The state one evaluation threads through compiled closures: the current scope, the two ads of a
 * match (for TARGET and the old-semantics fallback, SEMANTICS §3.2), and the budgets that keep
 * hostile ads from running forever (§1.9).
 */
import type { EvalBound } from "./budget.js";
import type { FnContext } from "./functions/index.js";
import type { ClassAd } from "./classad.js";
import type { Value } from "./value.js";

/** Total steps (attribute evaluations and function calls) one evaluation may take. */
export const STEP_BUDGET = 10_000_000;
/** Deepest chain of attribute references followed (HTCondor's MAX_CLASSAD_RECURSION). */
export const MAX_REFERENCE_DEPTH = 400;

export const SYSTEM_CLOCK: FnContext = { now: () => Math.floor(Date.now() / 1000) };

export class EvalState {
  /** The ad whose expression is being evaluated: unscoped names are looked up here first. */
  scope: ClassAd;
  /** The two ads of a match context (null outside one); each is the other's TARGET. */
  left: ClassAd | null = null;
  right: ClassAd | null = null;
  steps = STEP_BUDGET;
  depth = 0;
  /** A size cap met during this evaluation (steps run out are seen from `steps`). */
  hit: EvalBound | null = null;
  ctx: FnContext;

  constructor(scope: ClassAd, ctx: FnContext = SYSTEM_CLOCK) {
    this.scope = scope;
    this.ctx = ctx;
  }

  reset(scope: ClassAd, left: ClassAd | null, right: ClassAd | null, ctx: FnContext): void {
    this.scope = scope;
    this.left = left;
    this.right = right;
    const shared = ctx.budget;
    this.steps = shared === undefined || shared.steps > STEP_BUDGET ? STEP_BUDGET : shared.steps;
    this.depth = 0;
    this.hit = null;
    this.ctx = ctx;
  }

  /** Charge what this evaluation used to the context's shared budget, if any. */
  settle(started: number): void {
    const shared = this.ctx.budget;
    if (shared === undefined) return;
    shared.steps -= started - this.steps;
    if (shared.hit === null) shared.hit = this.steps < 0 ? "steps" : this.hit;
  }

  /** The other ad of the match for an ad (or a nested ad inside it), else null. */
  otherOf(ad: ClassAd): ClassAd | null {
    if (this.left === null) return null;
    let root = ad;
    while (root.parent !== null) root = root.parent;
    if (root === this.left) return this.right;
    if (root === this.right) return this.left;
    return null;
  }
}

/** A compiled expression: evaluates in the state's current scope. */
export type Compiled = (st: EvalState) => Value;
