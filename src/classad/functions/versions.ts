/** Version comparison built-ins (SEMANTICS §4.5): `versioncmp`, `versionLT`..., `version_in_range`. */
import { ERROR, UNDEFINED, type Value } from "../value.js";
import type { Builtin, BuiltinTable } from "./builtin.js";
import { toStringValue, twoStrings } from "./coerce.js";

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** The code unit at `i`, or 0 past the end (like the NUL of a C string). */
function at(s: string, i: number): number {
  return i < s.length ? s.charCodeAt(i) : 0;
}

/**
 * "Natural" comparison in the manner of glibc's `strverscmp`, as HTCondor's `natural_cmp` does it:
 * runs of digits compare as numbers (`7.9 < 7.10`), except that a run with leading zeros is read
 * as a fraction and sorts before one with fewer (`"01" < "1"`). Returns negative, zero or positive;
 * the magnitude carries no meaning beyond HTCondor's own (a code unit or length difference).
 */
export function naturalCompare(a: string, b: string): number {
  let i = 0;
  const common = Math.min(a.length, b.length);
  while (i < common && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  if (i === a.length && i === b.length) return 0;
  const ca = at(a, i);
  const cb = at(b, i);

  // The number the first difference sits in starts where the shared digits before it start.
  let start = i;
  while (start > 0 && isDigit(a.charCodeAt(start - 1))) start--;
  if (start === i && (!isDigit(ca) || !isDigit(cb))) return ca - cb;

  let zerosEndA = start;
  while (at(a, zerosEndA) === 48) zerosEndA++;
  let zerosEndB = start;
  while (at(b, zerosEndB) === 48) zerosEndB++;
  // A lone final zero ("0", "10") is a digit, not a leading zero.
  if (zerosEndA > start && !isDigit(at(a, zerosEndA))) zerosEndA--;
  if (zerosEndB > start && !isDigit(at(b, zerosEndB))) zerosEndB--;
  const zerosA = zerosEndA - start;
  const zerosB = zerosEndB - start;
  if (zerosA !== zerosB) return zerosB - zerosA;
  if (zerosA > 0) return ca - cb;

  let endA = zerosEndA;
  while (isDigit(at(a, endA))) endA++;
  let endB = zerosEndB;
  while (isDigit(at(b, endB))) endB++;
  if (endA - start !== endB - start) return endA - endB;
  return ca - cb;
}

/** The version order of two strings, as `result` reads it. */
function versionComparison(result: (order: number) => Value): Builtin {
  return twoStrings((a, b) => result(naturalCompare(a, b)));
}

/**
 * `version_in_range(v, min, max)`: min <= v <= max in natural order. HTCondor turns an UNDEFINED
 * `v` into ERROR (only min and max are checked for UNDEFINED); here any UNDEFINED argument gives
 * UNDEFINED, as for the other version functions.
 */
function versionInRange(args: readonly Value[]): Value {
  if (args.length !== 3) return ERROR;
  if (args.includes(UNDEFINED)) return UNDEFINED;
  const [v, min, max] = args.map(toStringValue) as [Value, Value, Value];
  if (typeof v !== "string" || typeof min !== "string" || typeof max !== "string") return ERROR;
  return naturalCompare(min, v) <= 0 && naturalCompare(v, max) <= 0;
}

/**
 * HTCondor tells these apart by a case-sensitive match on the name as written, so `versionle(...)`
 * is ERROR there although function names are otherwise case-insensitive; here every spelling works.
 */
export const VERSION_FUNCTIONS: BuiltinTable = {
  versioncmp: versionComparison((order) => order),
  versionlt: versionComparison((order) => order < 0),
  versionle: versionComparison((order) => order <= 0),
  versiongt: versionComparison((order) => order > 0),
  versionge: versionComparison((order) => order >= 0),
  versioneq: versionComparison((order) => order === 0),
  version_in_range: versionInRange,
};
