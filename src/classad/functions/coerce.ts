/**
 * Value conversions shared by the built-ins, as HTCondor's `convertValueTo*Value` helpers do them
 * (SEMANTICS §4 "conv-string", §4.3).
 */
import { absTimeText, relTimeText } from "../time-text.js";
import { unparseValue } from "../unparse.js";
import {
  AbsTime,
  type ClassAdLike,
  ERROR,
  type ErrorValue,
  INT64_MAX,
  INT64_MIN,
  Real,
  RelTime,
  type Undefined,
  UNDEFINED,
  type Value,
  makeInteger,
} from "../value.js";
import type { Builtin } from "./builtin.js";
import { parseCNumber } from "./c-number.js";

export type Exceptional = Undefined | ErrorValue;

/** UNDEFINED or ERROR. */
export function isExceptional(v: unknown): v is Exceptional {
  return typeof v === "symbol";
}

/**
 * A built-in of two strings (strcmp, versioncmp...): UNDEFINED if either argument is, else both
 * through conv-string, and ERROR if either cannot be or there are not two (§4.5).
 */
export function twoStrings(f: (a: string, b: string) => Value): Builtin {
  return (args) => {
    if (args.length !== 2) return ERROR;
    const [x, y] = args as [Value, Value];
    if (x === UNDEFINED || y === UNDEFINED) return UNDEFINED;
    const a = toStringValue(x);
    const b = toStringValue(y);
    if (isExceptional(a) || isExceptional(b)) return ERROR;
    return f(a, b);
  };
}

/**
 * "conv-string": strings as they are, integers in decimal, booleans as `true`/`false`, reals,
 * lists and ads as their new-syntax unparse (`1.5` is `"1.500000000000000E+00"`), times as the
 * text inside their `absTime("...")`/`relTime("...")`; UNDEFINED and ERROR stay as they are.
 */
export function toStringValue(v: Value): string | Exceptional {
  switch (typeof v) {
    case "string":
    case "symbol":
      return v;
    case "number":
    case "bigint":
      return String(v);
    case "boolean":
      return v ? "true" : "false";
    default:
      if (v instanceof AbsTime) return absTimeText(v);
      if (v instanceof RelTime) return relTimeText(v.secs);
      return unparseValue(v);
  }
}

/**
 * `real()` conversion to a JS number: strings are read like C's `strtod` (§4.3); an abstime is
 * its epoch seconds and a reltime its length in seconds.
 */
export function toRealNumber(v: Value): number | Exceptional {
  switch (typeof v) {
    case "number":
    case "symbol":
      return v;
    case "bigint":
      return Number(v);
    case "boolean":
      return v ? 1 : 0;
    case "string": {
      const parsed = parseCNumber(v);
      return parsed === undefined ? ERROR : parsed.value;
    }
    default:
      if (v instanceof AbsTime) return v.secs;
      if (v instanceof RelTime) return v.secs;
      return v instanceof Real ? v.v : ERROR;
  }
}

/**
 * A real truncated toward zero. C leaves NaN, infinities and values beyond int64 undefined; here
 * they are ERROR rather than whatever the hardware produces.
 */
export function truncateToInteger(r: number): number | bigint | ErrorValue {
  if (!Number.isFinite(r)) return ERROR;
  const t = Math.trunc(r);
  if (Number.isSafeInteger(t)) return t === 0 ? 0 : t;
  if (t >= 2 ** 63 || t < -(2 ** 63)) return ERROR;
  return makeInteger(BigInt(t));
}

/**
 * `int()` conversion (§4.3): reals truncate, booleans are 0/1, strings are read like `strtod`
 * then truncated. A decimal integer string is read exactly (no detour through a double), and one
 * beyond int64 is ERROR. An abstime is its epoch seconds, a reltime its whole seconds.
 */
export function toIntegerValue(v: Value): number | bigint | Exceptional {
  switch (typeof v) {
    case "number":
    case "bigint":
    case "symbol":
      return v;
    case "boolean":
      return v ? 1 : 0;
    case "string": {
      const parsed = parseCNumber(v);
      if (parsed === undefined) return ERROR;
      if (parsed.integerText === undefined) return truncateToInteger(parsed.value);
      const exact = BigInt(parsed.integerText);
      return exact < INT64_MIN || exact > INT64_MAX ? ERROR : makeInteger(exact);
    }
    default:
      if (v instanceof AbsTime) return v.secs;
      if (v instanceof RelTime) return truncateToInteger(v.secs);
      return v instanceof Real ? truncateToInteger(v.v) : ERROR;
  }
}

/**
 * The number of attributes of a classad. The engine's ClassAd exposes it as `size` (a number or a
 * method); anything else counts as not knowing.
 */
export function classAdSize(ad: ClassAdLike): number | undefined {
  const size = (ad as { size?: unknown }).size;
  if (typeof size === "number") return size;
  if (typeof size === "function") {
    const n: unknown = size.call(ad);
    return typeof n === "number" ? n : undefined;
  }
  return undefined;
}
