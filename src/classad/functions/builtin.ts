import type { Value } from "../value.js";

/** What a built-in function may ask of the evaluator. */
export interface FnContext {
  /** Seconds since the epoch. */
  now(): number;
}

/** A strict built-in: its arguments are already evaluated. */
export type Builtin = (args: readonly Value[], ctx: FnContext) => Value;

/** A family of built-ins, keyed by lower-case name. */
export type BuiltinTable = Readonly<Record<string, Builtin>>;
