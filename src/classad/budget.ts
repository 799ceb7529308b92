/**
 * Bounds on ClassAd evaluation, so that no expression a user or a peer sends can hold a daemon's
 * event loop or memory: a step budget per evaluation and, shared by many evaluations, per query or
 * per cycle; and caps on the strings and lists an evaluation may build. A bound that is hit makes
 * the evaluation ERROR (as HTCondor's own recursion limit does) and is recorded in the budget, so
 * that the caller can say which bound it was.
 */

/** Which bound stopped an evaluation. */
export type EvalBound = "steps" | "string_length" | "list_length";

/** Longest string an evaluation may build, in UTF-16 units (1 MiB of ASCII). */
export const MAX_STRING_LENGTH = 1 << 20;
/** Most items a list an evaluation builds may hold. */
export const MAX_LIST_LENGTH = 100_000;
/**
 * Steps charged per this many string units a built-in reads: scanning a string (regexp,
 * stringListMember, split) costs tens of nanoseconds a character, as much as a step.
 */
export const STRING_UNITS_PER_STEP = 2;
/** Steps charged per this many list items a built-in reads. */
export const LIST_ITEMS_PER_STEP = 16;

/**
 * Steps left for a caller's evaluations (a query, a cycle, a policy sweep); each evaluation takes
 * what it used. `hit` remembers the first bound met.
 */
export interface EvalBudget {
  steps: number;
  hit: EvalBound | null;
}

export function createEvalBudget(steps: number): EvalBudget {
  return { steps, hit: null };
}

/** What to tell a caller whose work met `bound`. */
export function describeBound(bound: EvalBound): string {
  switch (bound) {
    case "steps":
      return "the evaluation step budget";
    case "string_length":
      return `the string length cap (${MAX_STRING_LENGTH} characters)`;
    case "list_length":
      return `the list length cap (${MAX_LIST_LENGTH} items)`;
  }
}
