/** Conversions `int`, `real`, `string`, `bool` (SEMANTICS §4.3). */
import { ERROR, Real, UNDEFINED, type Value } from "../value.js";
import type { BuiltinTable } from "./builtin.js";
import { isExceptional, toIntegerValue, toRealNumber, toStringValue } from "./coerce.js";

/** `bool(x)`: numbers are non-zero; only the strings "true"/"false" (any case) convert. */
function toBoolean(v: Value): Value {
  switch (typeof v) {
    case "boolean":
    case "symbol":
      return v;
    case "number":
      return v !== 0;
    case "bigint":
      return v !== 0n;
    case "string": {
      const lower = v.toLowerCase();
      if (lower === "true") return true;
      if (lower === "false") return false;
      return UNDEFINED;
    }
    default:
      // NaN counts as non-zero, as C's `r != 0.0` says.
      return v instanceof Real ? v.v !== 0 : ERROR;
  }
}

export const CONVERSION_FUNCTIONS: BuiltinTable = {
  // UNDEFINED converts to UNDEFINED in all four (the docs say ERROR, §7).
  int: (args) => (args.length === 1 ? toIntegerValue(args[0]!) : ERROR),
  real: (args) => {
    if (args.length !== 1) return ERROR;
    const r = toRealNumber(args[0]!);
    return isExceptional(r) ? r : new Real(r);
  },
  string: (args) => (args.length === 1 ? toStringValue(args[0]!) : ERROR),
  bool: (args) => (args.length === 1 ? toBoolean(args[0]!) : ERROR),
};
