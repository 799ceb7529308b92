/**
 * Type predicates (SEMANTICS §4.1): exactly one argument, TRUE iff the value has exactly that type;
 * they never propagate UNDEFINED or ERROR. Booleans are their own type (`isBoolean(1)` is FALSE,
 * `isInteger(true)` is FALSE, §7). There are no absolute/relative time values in Updraft, so
 * `isAbstime` and `isReltime` are always FALSE.
 */
import { ERROR, type TypeName, type Value, typeOf } from "../value.js";
import type { Builtin, BuiltinTable } from "./builtin.js";

function predicate(test: (v: Value) => boolean): Builtin {
  return (args) => (args.length === 1 ? test(args[0]!) : ERROR);
}

function ofType(name: TypeName): Builtin {
  return predicate((v) => typeOf(v) === name);
}

export const TYPE_FUNCTIONS: BuiltinTable = {
  isundefined: ofType("undefined"),
  iserror: ofType("error"),
  isstring: ofType("string"),
  isinteger: ofType("integer"),
  isreal: ofType("real"),
  isboolean: ofType("boolean"),
  islist: ofType("list"),
  isclassad: ofType("classad"),
  isabstime: predicate(() => false),
  isreltime: predicate(() => false),
};
