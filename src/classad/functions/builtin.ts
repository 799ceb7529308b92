import type { EvalBudget } from "../budget.js";
import type { Value } from "../value.js";

/** What a built-in function may ask of the evaluator. */
export interface FnContext {
  /** Seconds since the epoch. */
  now(): number;
  /**
   * The local zone's offset from UTC, in seconds east, in force at an epoch second: what
   * `absTime("2024-01-01")`, `formatTime(1700000000)` and `splitTime(1700000000)` read local
   * time with. Without it, the process's time zone is used.
   */
  utcOffset?(epochSeconds: number): number;
  /**
   * Steps shared by every evaluation made with this context (a query's, a cycle's); without it,
   * each evaluation has only its own STEP_BUDGET.
   */
  budget?: EvalBudget;
}

/** The local zone offset (seconds east of UTC) at `epochSeconds`, per the context. */
export function localOffset(ctx: FnContext, epochSeconds: number): number {
  if (ctx.utcOffset !== undefined) return ctx.utcOffset(epochSeconds);
  const minutesWest = new Date(epochSeconds * 1000).getTimezoneOffset();
  // An out-of-range date gives NaN; no zone is better than a NaN offset.
  return Number.isNaN(minutesWest) || minutesWest === 0 ? 0 : -minutesWest * 60;
}

/** A strict built-in: its arguments are already evaluated. */
export type Builtin = (args: readonly Value[], ctx: FnContext) => Value;

/** A family of built-ins, keyed by lower-case name. */
export type BuiltinTable = Readonly<Record<string, Builtin>>;
