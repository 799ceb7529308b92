/**
 * String built-ins (SEMANTICS §4.5). Lengths and offsets count UTF-16 code units, where HTCondor
 * counts UTF-8 bytes; the two agree on ASCII, and this way a substring never splits a character's
 * encoding.
 */
import { MAX_STRING_LENGTH } from "../budget.js";
import { compareAsciiCaseless, compareCaseSensitive } from "../operators.js";
import { ERROR, ListValue, UNDEFINED, type Value, isClassAd } from "../value.js";
import type { Builtin, BuiltinTable } from "./builtin.js";
import { classAdSize, isExceptional, toStringValue, twoStrings } from "./coerce.js";

/**
 * `strcat(a, ...)`: every argument through conv-string; the first UNDEFINED or ERROR met (left to
 * right) is the result (UNDEFINED, not the ERROR the docs promise, §7).
 */
function strcat(args: readonly Value[]): Value {
  let out = "";
  for (const arg of args) {
    const s = toStringValue(arg);
    if (isExceptional(s)) return s;
    out += s;
    if (out.length > MAX_STRING_LENGTH) return out;
  }
  return out;
}

/**
 * `join(sep, a, ...)`, `join(sep, list)`, `join(list)`: UNDEFINED items are skipped; when nothing
 * defined is left to join but something was UNDEFINED (the separator included), the result is
 * UNDEFINED; ERROR anywhere is ERROR (§4.5, test_classad_funcs.cpp).
 */
function join(args: readonly Value[]): Value {
  if (args.length === 0) return "";
  const last = args[args.length - 1]!;
  const joinsList = args.length <= 2 && last instanceof ListValue;
  const separator = joinsList && args.length === 1 ? "" : toStringValue(args[0]!);
  if (separator === ERROR) return ERROR;
  let sawUndefined = separator === UNDEFINED;
  const sep = separator === UNDEFINED ? "" : separator;

  const items = joinsList ? (last as ListValue).items : args;
  let out = "";
  let joined = 0;
  for (let i = joinsList ? 0 : 1; i < items.length; i++) {
    const s = toStringValue(items[i]!);
    if (s === ERROR) return ERROR;
    if (s === UNDEFINED) {
      sawUndefined = true;
      continue;
    }
    out += joined++ === 0 ? s : sep + s;
    // Past the cap the evaluator refuses the result anyway: stop growing it.
    if (out.length > MAX_STRING_LENGTH) return out;
  }
  return joined === 0 && sawUndefined ? UNDEFINED : out;
}

function asInteger(v: Value): number | undefined {
  if (typeof v === "number") return v;
  if (typeof v === "bigint") return Number(v);
  return undefined;
}

/**
 * `substr(s, offset [, length])`, Perl-like: a negative offset counts from the end (clamped to the
 * start), a negative length leaves that many characters off the end, an explicit 0 is empty.
 * UNDEFINED anywhere is UNDEFINED; `s` must be a string and the numbers integers (§4.5).
 */
function substr(args: readonly Value[]): Value {
  if (args.length < 2 || args.length > 3) return ERROR;
  if (args.includes(UNDEFINED)) return UNDEFINED;
  const s = args[0]!;
  const offsetArg = asInteger(args[1]!);
  const lengthArg = args.length === 3 ? asInteger(args[2]!) : undefined;
  if (typeof s !== "string" || offsetArg === undefined) return ERROR;
  if (args.length === 3 && lengthArg === undefined) return ERROR;

  const size = s.length;
  const start = offsetArg < 0 ? Math.max(0, size + offsetArg) : Math.min(offsetArg, size);
  const rest = size - start;
  let length: number;
  if (lengthArg === undefined) length = rest;
  else if (lengthArg < 0) length = Math.max(0, rest + lengthArg);
  else length = Math.min(lengthArg, rest);
  return s.slice(start, start + length);
}

/** `size(x)`: string length, list length or number of attributes; UNDEFINED stays (§4.5). */
function size(args: readonly Value[]): Value {
  if (args.length !== 1) return ERROR;
  const v = args[0]!;
  if (v === UNDEFINED) return UNDEFINED;
  if (typeof v === "string") return v.length;
  if (v instanceof ListValue) return v.items.length;
  if (isClassAd(v)) return classAdSize(v) ?? ERROR;
  return ERROR;
}

/** Case change of ASCII letters only, as C's `toupper`/`tolower` do in the C locale. */
function changeCase(pattern: RegExp, change: (s: string) => string): Builtin {
  return (args) => {
    if (args.length !== 1) return ERROR;
    const s = toStringValue(args[0]!);
    return isExceptional(s) ? s : s.replace(pattern, change);
  };
}

/** strcmp/stricmp: -1, 0 or 1. */
function compareWith(compare: (a: string, b: string) => number): Builtin {
  return twoStrings((a, b) => Math.sign(compare(a, b)));
}

export const STRING_FUNCTIONS: BuiltinTable = {
  strcat,
  join,
  substr,
  size,
  toupper: changeCase(/[a-z]+/g, (s) => s.toUpperCase()),
  tolower: changeCase(/[A-Z]+/g, (s) => s.toLowerCase()),
  strcmp: compareWith(compareCaseSensitive),
  stricmp: compareWith(compareAsciiCaseless),
};
