/**
 * The strict built-in functions of the ClassAd language (SEMANTICS §4), by lower-case name.
 * The evaluator owns the special forms that need unevaluated arguments: `ifThenElse`, `eval`,
 * `unparse`.
 */
import type { Builtin, BuiltinTable } from "./builtin.js";
import { CONVERSION_FUNCTIONS } from "./conversion.js";
import { LIST_FUNCTIONS } from "./lists.js";
import { MATH_FUNCTIONS } from "./math.js";
import { REGEX_FUNCTIONS } from "./regex.js";
import { SPLIT_FUNCTIONS } from "./split.js";
import { STRING_LIST_FUNCTIONS } from "./string-lists.js";
import { STRING_FUNCTIONS } from "./strings.js";
import { TIME_FUNCTIONS } from "./time.js";
import { TYPE_FUNCTIONS } from "./types.js";
import { VERSION_FUNCTIONS } from "./versions.js";

export type { Builtin, FnContext } from "./builtin.js";

const FAMILIES: readonly BuiltinTable[] = [
  TYPE_FUNCTIONS,
  CONVERSION_FUNCTIONS,
  MATH_FUNCTIONS,
  STRING_FUNCTIONS,
  VERSION_FUNCTIONS,
  REGEX_FUNCTIONS,
  LIST_FUNCTIONS,
  SPLIT_FUNCTIONS,
  STRING_LIST_FUNCTIONS,
  TIME_FUNCTIONS,
];

function collect(): ReadonlyMap<string, Builtin> {
  const all = new Map<string, Builtin>();
  for (const family of FAMILIES) {
    for (const [name, fn] of Object.entries(family)) {
      if (all.has(name)) throw new Error(`built-in ${name} defined twice`);
      all.set(name, fn);
    }
  }
  return all;
}

export const BUILTINS: ReadonlyMap<string, Builtin> = collect();
