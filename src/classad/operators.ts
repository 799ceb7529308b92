/**
 * The ClassAd operators on evaluated values, following HTCondor's default (old-semantics) engine
 * (SEMANTICS §2). Every binary operator here is strict: ERROR beats UNDEFINED, checked left to
 * right (§2.2); the non-strict ones (`&&`, `||`, `?:`, `=?=`, `=!=`) are short-circuited by the
 * compiler, which uses `toLogical` and `metaEq`/`metaNe` from this module.
 *
 * Integers are safe `number`s or int64 `bigint`s (see value.ts). Each exported operator first tries
 * the all-`number` case without allocating and falls back to a general path otherwise.
 */
import {
  ERROR,
  type ErrorValue,
  INT64_MIN,
  INT64_MAX,
  ListValue,
  Real,
  UNDEFINED,
  type Undefined,
  type Value,
  makeInteger,
} from "./value.js";

const enum Arith {
  Add,
  Sub,
  Mul,
  Div,
  Mod,
}

const enum Compare {
  Lt,
  Le,
  Gt,
  Ge,
  Eq,
  Ne,
}

const enum Bitwise {
  And,
  Or,
  Xor,
  Shl,
  Shr,
  Ushr,
}

/** Integer zero is never negative: JS produces -0 from `0 * -1`, `-0`, `-1 % 1`... */
function noNegativeZero(n: number): number {
  return n === 0 ? 0 : n;
}

/** An operand for arithmetic or comparison: booleans promote to 0/1 (§2.4, §2.5). */
function promote(v: Value): Value {
  return typeof v === "boolean" ? (v ? 1 : 0) : v;
}

function isIntegerValue(v: Value): v is number | bigint {
  return typeof v === "number" || typeof v === "bigint";
}

function realOf(v: number | bigint | Real): number {
  return v instanceof Real ? v.v : Number(v);
}

// ---------------------------------------------------------------------------------------------
// Arithmetic (§2.4)

function integerArithmetic(op: Arith, a: number | bigint, b: number | bigint): Value {
  if (typeof a === "number" && typeof b === "number") {
    switch (op) {
      case Arith.Add: {
        const r = a + b;
        if (Number.isSafeInteger(r)) return r;
        break;
      }
      case Arith.Sub: {
        const r = a - b;
        if (Number.isSafeInteger(r)) return r;
        break;
      }
      case Arith.Mul: {
        // A product below 2^53 in magnitude is computed exactly by double multiplication.
        const r = a * b;
        if (Number.isSafeInteger(r)) return noNegativeZero(r);
        break;
      }
      case Arith.Div: {
        if (b === 0) return ERROR;
        // `%` on doubles is exact, so this truncating quotient is exact too (no a/b rounding).
        return noNegativeZero((a - (a % b)) / b);
      }
      case Arith.Mod:
        if (b === 0) return ERROR;
        return noNegativeZero(a % b);
    }
  }
  const x = BigInt(a);
  const y = BigInt(b);
  switch (op) {
    case Arith.Add:
      return makeInteger(x + y);
    case Arith.Sub:
      return makeInteger(x - y);
    case Arith.Mul:
      return makeInteger(x * y);
    case Arith.Div:
      if (y === 0n) return ERROR;
      // C would trap; HTCondor special-cases it to INT64_MAX (§2.4).
      if (x === INT64_MIN && y === -1n) return makeInteger(INT64_MAX);
      return makeInteger(x / y);
    case Arith.Mod:
      if (y === 0n) return ERROR;
      return makeInteger(x % y);
  }
}

/**
 * HTCondor checks every real result against +HUGE_VAL and reports it as ERROR, while -inf and NaN
 * come back as reals (§2.4: `7.0 / 0` is ERROR, `-7.0 / 0` is `real("-INF")`, `0.0 / 0` NaN).
 */
function realResult(r: number): Value {
  return r === Infinity ? ERROR : new Real(r);
}

function realArithmetic(op: Arith, a: number, b: number): Value {
  switch (op) {
    case Arith.Add:
      return realResult(a + b);
    case Arith.Sub:
      return realResult(a - b);
    case Arith.Mul:
      return realResult(a * b);
    case Arith.Div:
      return realResult(a / b);
    case Arith.Mod:
      // Any `%` involving a real is ERROR (EDOM in HTCondor, §2.4).
      return ERROR;
  }
}

function arithmetic(op: Arith, a: Value, b: Value): Value {
  if (a === ERROR || b === ERROR) return ERROR;
  if (a === UNDEFINED || b === UNDEFINED) return UNDEFINED;
  const x = promote(a);
  const y = promote(b);
  if (isIntegerValue(x)) {
    if (isIntegerValue(y)) return integerArithmetic(op, x, y);
    if (y instanceof Real) return realArithmetic(op, Number(x), y.v);
    return ERROR;
  }
  if (x instanceof Real && (isIntegerValue(y) || y instanceof Real)) {
    return realArithmetic(op, x.v, realOf(y));
  }
  return ERROR;
}

export function add(a: Value, b: Value): Value {
  if (typeof a === "number" && typeof b === "number") {
    const r = a + b;
    if (Number.isSafeInteger(r)) return r;
  }
  return arithmetic(Arith.Add, a, b);
}

export function sub(a: Value, b: Value): Value {
  if (typeof a === "number" && typeof b === "number") {
    const r = a - b;
    if (Number.isSafeInteger(r)) return r;
  }
  return arithmetic(Arith.Sub, a, b);
}

export function mul(a: Value, b: Value): Value {
  if (typeof a === "number" && typeof b === "number") {
    const r = a * b;
    if (Number.isSafeInteger(r)) return noNegativeZero(r);
  }
  return arithmetic(Arith.Mul, a, b);
}

export function div(a: Value, b: Value): Value {
  return arithmetic(Arith.Div, a, b);
}

export function mod(a: Value, b: Value): Value {
  return arithmetic(Arith.Mod, a, b);
}

// ---------------------------------------------------------------------------------------------
// Comparison (§2.5)

/**
 * `strcasecmp` as HTCondor's C library does it: bytes compared after folding ASCII letters only
 * (so `"_" < "A"`, §2.5). JS strings hold UTF-16 units; a small fix-up keeps the order of UTF-8
 * bytes (code point order) when a surrogate meets a unit in U+E000..U+FFFF.
 * Returns a negative number, zero or a positive number.
 */
export function compareAsciiCaseless(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 65 && x <= 90) x += 32;
    if (y >= 65 && y <= 90) y += 32;
    if (x !== y) return codePointOrder(x, y);
  }
  return a.length - b.length;
}

/** `strcmp` on the UTF-8 bytes of two strings: negative, zero or positive. */
export function compareCaseSensitive(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return codePointOrder(x, y);
  }
  return a.length - b.length;
}

function codePointOrder(x: number, y: number): number {
  if (x >= 0xd800 && y >= 0xd800) {
    // Surrogates stand for code points above U+FFFF, which sort after U+E000..U+FFFF.
    const xs = x <= 0xdfff;
    const ys = y <= 0xdfff;
    if (xs !== ys) return xs ? 1 : -1;
  }
  return x - y;
}

/** ASCII-caseless string equality, cheaper than a full comparison (folding keeps lengths). */
export function equalsAsciiCaseless(a: string, b: string): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 65 && x <= 90) x += 32;
    if (y >= 65 && y <= 90) y += 32;
    if (x !== y) return false;
  }
  return true;
}

function test(op: Compare, sign: number): boolean {
  switch (op) {
    case Compare.Lt:
      return sign < 0;
    case Compare.Le:
      return sign <= 0;
    case Compare.Gt:
      return sign > 0;
    case Compare.Ge:
      return sign >= 0;
    case Compare.Eq:
      return sign === 0;
    case Compare.Ne:
      return sign !== 0;
  }
}

/** C double comparison: every ordered test on NaN is false, `!=` is true. */
function compareReals(op: Compare, x: number, y: number): boolean {
  switch (op) {
    case Compare.Lt:
      return x < y;
    case Compare.Le:
      return x <= y;
    case Compare.Gt:
      return x > y;
    case Compare.Ge:
      return x >= y;
    case Compare.Eq:
      return x === y;
    case Compare.Ne:
      return x !== y;
  }
}

function compare(op: Compare, a: Value, b: Value): Value {
  if (a === ERROR || b === ERROR) return ERROR;
  if (a === UNDEFINED || b === UNDEFINED) return UNDEFINED;
  if (typeof a === "string") {
    if (typeof b !== "string") return ERROR;
    if (op === Compare.Eq) return equalsAsciiCaseless(a, b);
    if (op === Compare.Ne) return !equalsAsciiCaseless(a, b);
    return test(op, compareAsciiCaseless(a, b));
  }
  const x = promote(a);
  const y = promote(b);
  if (isIntegerValue(x)) {
    // number/bigint mixes compare exactly in JS.
    if (isIntegerValue(y)) return test(op, x < y ? -1 : x > y ? 1 : 0);
    if (y instanceof Real) return compareReals(op, Number(x), y.v);
    return ERROR;
  }
  if (x instanceof Real && (isIntegerValue(y) || y instanceof Real)) {
    return compareReals(op, x.v, realOf(y));
  }
  // Strings against non-strings, lists and ads are errors (§2.5 items 4 and 5).
  return ERROR;
}

export function lt(a: Value, b: Value): Value {
  if (typeof a === "number" && typeof b === "number") return a < b;
  return compare(Compare.Lt, a, b);
}

export function le(a: Value, b: Value): Value {
  if (typeof a === "number" && typeof b === "number") return a <= b;
  return compare(Compare.Le, a, b);
}

export function gt(a: Value, b: Value): Value {
  if (typeof a === "number" && typeof b === "number") return a > b;
  return compare(Compare.Gt, a, b);
}

export function ge(a: Value, b: Value): Value {
  if (typeof a === "number" && typeof b === "number") return a >= b;
  return compare(Compare.Ge, a, b);
}

export function eq(a: Value, b: Value): Value {
  if (typeof a === "number" && typeof b === "number") return a === b;
  if (typeof a === "string" && typeof b === "string") return equalsAsciiCaseless(a, b);
  return compare(Compare.Eq, a, b);
}

export function ne(a: Value, b: Value): Value {
  if (typeof a === "number" && typeof b === "number") return a !== b;
  if (typeof a === "string" && typeof b === "string") return !equalsAsciiCaseless(a, b);
  return compare(Compare.Ne, a, b);
}

// ---------------------------------------------------------------------------------------------
// Meta-equality (§2.6)

/**
 * `=?=`: never strict, no promotion, case-sensitive strings. Two lists or two ads are ERROR
 * (HTCondor falls into the `==` path for them, §2.6). Integers are normalised, so a `number` and a
 * `bigint` are never the same value.
 */
export function metaEq(a: Value, b: Value): Value {
  switch (typeof a) {
    case "symbol":
    case "boolean":
    case "string":
      return a === b;
    case "number":
      return typeof b === "number" && a === b;
    case "bigint":
      return typeof b === "bigint" && a === b;
    default:
      if (a instanceof Real) return b instanceof Real && a.v === b.v;
      if (a instanceof ListValue) return b instanceof ListValue ? ERROR : false;
      // `a` is a classad: ERROR against another classad, FALSE against anything else.
      return typeof b === "object" && !(b instanceof Real) && !(b instanceof ListValue)
        ? ERROR
        : false;
  }
}

export function metaNe(a: Value, b: Value): Value {
  const r = metaEq(a, b);
  return r === ERROR ? ERROR : !r;
}

// ---------------------------------------------------------------------------------------------
// Bitwise and shifts (§2.10): integers only, booleans included in the ERROR case.

/**
 * Shift counts outside 0..63 are undefined behaviour in C, so HTCondor's results there depend on
 * the hardware. Here a count of 64 or more shifts every bit out (0, or -1 for `>>` of a negative
 * number, which is what HTCondor's own `>>` loop does), and a negative count is ERROR.
 */
function shiftCount(n: number | bigint): bigint {
  return n > 64 ? 64n : BigInt(n);
}

function bitwise(op: Bitwise, a: Value, b: Value): Value {
  if (a === ERROR || b === ERROR) return ERROR;
  if (a === UNDEFINED || b === UNDEFINED) return UNDEFINED;
  if (!isIntegerValue(a) || !isIntegerValue(b)) return ERROR;
  if (op >= Bitwise.Shl && b < 0) return ERROR;
  const x = BigInt(a);
  switch (op) {
    case Bitwise.And:
      return makeInteger(x & BigInt(b));
    case Bitwise.Or:
      return makeInteger(x | BigInt(b));
    case Bitwise.Xor:
      return makeInteger(x ^ BigInt(b));
    case Bitwise.Shl:
      return makeInteger(x << shiftCount(b));
    case Bitwise.Shr:
      return makeInteger(x >> shiftCount(b));
    case Bitwise.Ushr:
      return makeInteger(BigInt.asUintN(64, x) >> shiftCount(b));
  }
}

/** Both operands fit JS's 32-bit bitwise operators, whose results then sign-extend correctly. */
function bothInt32(a: Value, b: Value): boolean {
  return typeof a === "number" && typeof b === "number" && (a | 0) === a && (b | 0) === b;
}

export function bitAnd(a: Value, b: Value): Value {
  if (bothInt32(a, b)) return (a as number) & (b as number);
  return bitwise(Bitwise.And, a, b);
}

export function bitOr(a: Value, b: Value): Value {
  if (bothInt32(a, b)) return (a as number) | (b as number);
  return bitwise(Bitwise.Or, a, b);
}

export function bitXor(a: Value, b: Value): Value {
  if (bothInt32(a, b)) return (a as number) ^ (b as number);
  return bitwise(Bitwise.Xor, a, b);
}

export function shl(a: Value, b: Value): Value {
  return bitwise(Bitwise.Shl, a, b);
}

export function shr(a: Value, b: Value): Value {
  return bitwise(Bitwise.Shr, a, b);
}

export function ushr(a: Value, b: Value): Value {
  return bitwise(Bitwise.Ushr, a, b);
}

// ---------------------------------------------------------------------------------------------
// Unary operators

/** Unary minus: booleans are ERROR (§2.4); `-(0.0)` is `-0.0`; `-INT64_MIN` wraps to itself. */
export function negate(a: Value): Value {
  switch (typeof a) {
    case "number":
      return noNegativeZero(-a);
    case "bigint":
      return makeInteger(-a);
    case "symbol":
      return a;
    default:
      return a instanceof Real ? new Real(-a.v) : ERROR;
  }
}

/** Unary plus: numbers unchanged; booleans, strings, lists and ads are ERROR (§2.4). */
export function unaryPlus(a: Value): Value {
  if (typeof a === "number" || typeof a === "bigint" || typeof a === "symbol") return a;
  return a instanceof Real ? a : ERROR;
}

export function not(a: Value): Value {
  const v = toLogical(a);
  return typeof v === "boolean" ? !v : v;
}

export function bitNot(a: Value): Value {
  switch (typeof a) {
    case "number":
      return makeInteger(-a - 1);
    case "bigint":
      return makeInteger(~a);
    case "symbol":
      return a;
    default:
      return ERROR;
  }
}

/** Logical-operand conversion for && || ?: (numbers non-zero -> true; string/list/ad -> ERROR). */
export function toLogical(v: Value): boolean | Undefined | ErrorValue {
  switch (typeof v) {
    case "boolean":
    case "symbol":
      return v;
    case "number":
      return v !== 0;
    case "bigint":
      return v !== 0n;
    default:
      // NaN is "non-zero" to C's `r != 0.0`.
      return v instanceof Real ? v.v !== 0 : ERROR;
  }
}
