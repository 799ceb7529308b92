/** Rounding and arithmetic built-ins (SEMANTICS §4.4). */
import { ERROR, ListValue, Real, type Value, makeInteger } from "../value.js";
import type { Builtin, BuiltinTable } from "./builtin.js";
import { isExceptional, toRealNumber, truncateToInteger } from "./coerce.js";

/** `rint` under the default rounding mode: halves go to the even neighbour. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  // Math.round sends halves up; pull the odd ones back down to the even neighbour.
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * floor/ceiling/round: an integer comes back unchanged; anything else goes through `real()` and
 * fails to ERROR, UNDEFINED included (§4.4). A result beyond int64 (or from NaN/inf) is ERROR,
 * where HTCondor's C cast would be undefined.
 */
function rounding(toward: (x: number) => number): Builtin {
  return (args) => {
    if (args.length !== 1) return ERROR;
    const v = args[0]!;
    if (typeof v === "number" || typeof v === "bigint") return v;
    const r = toRealNumber(v);
    return isExceptional(r) ? ERROR : truncateToInteger(toward(r));
  };
}

/** `base ** exponent` in int64 with C wrap-around, by repeated squaring. */
function integerPower(base: bigint, exponent: bigint): number | bigint {
  let result = 1n;
  let b = BigInt.asIntN(64, base);
  let e = exponent;
  while (e > 0n) {
    if (e & 1n) result = BigInt.asIntN(64, result * b);
    b = BigInt.asIntN(64, b * b);
    e >>= 1n;
  }
  return makeInteger(result);
}

/** C's `pow` where it differs from `Math.pow`: `pow(1, y)` and `pow(-1, ±inf)` are 1. */
function cPow(x: number, y: number): number {
  if (x === 1 || (x === -1 && !Number.isFinite(y) && !Number.isNaN(y))) return 1;
  return Math.pow(x, y);
}

/**
 * `pow(base, exp)`: integer base and non-negative integer exponent give an exact integer.
 * HTCondor computes `(long long)(pow(double, double) + 0.5)`, which makes negative odd results
 * off by one (`pow(-2, 3)` is -7) and loses precision above 2^53 (§4.4); here the result is the
 * exact power, wrapped to 64 bits like other integer arithmetic. Otherwise both convert with
 * `real()` (failure, UNDEFINED included, is ERROR) and the result is real.
 */
function pow(args: readonly Value[]): Value {
  if (args.length !== 2) return ERROR;
  const [base, exponent] = args as [Value, Value];
  if (
    (typeof base === "number" || typeof base === "bigint") &&
    (typeof exponent === "number" || typeof exponent === "bigint") &&
    exponent >= 0
  ) {
    return integerPower(BigInt(base), BigInt(exponent));
  }
  const x = toRealNumber(base);
  const y = toRealNumber(exponent);
  if (isExceptional(x) || isExceptional(y)) return ERROR;
  return new Real(cPow(x, y));
}

/** The smallest multiple of `step` not below `a`, exactly, for integers. */
function integerCeilingMultiple(a: bigint, step: bigint): number | bigint {
  let q = a / step;
  if (q * step !== a && a > 0n === step > 0n) q += 1n;
  return makeInteger(q * step);
}

function quantizeScalar(original: Value, a: number, step: Value): Value {
  if (typeof step === "number" || typeof step === "bigint") {
    if (step === 0 || step === 0n) return original;
    if (typeof original === "number" || typeof original === "bigint") {
      // HTCondor uses ((a + b - 1) / b) * b, which is a ceiling only for positive operands; this
      // is the true ceiling multiple for any signs.
      return integerCeilingMultiple(BigInt(original), BigInt(step));
    }
    const b = Number(step);
    return new Real(Math.ceil(a / b) * b);
  }
  const b = toRealNumber(step);
  if (isExceptional(b)) return ERROR;
  if (Math.abs(b) <= 1e-8) return original;
  return new Real(Math.ceil(a / b) * b);
}

/**
 * `quantize(a, b)`: `a` rounded up to a multiple of `b`; the result is an integer only when both
 * are integers. With a list, the first item not below `a` is the answer as it is; when every item
 * is below `a`, quantize by the last item; an item that is not a number is ERROR (§4.4).
 */
function quantize(args: readonly Value[]): Value {
  if (args.length !== 2) return ERROR;
  const [value, step] = args as [Value, Value];
  const a = toRealNumber(value);
  if (isExceptional(a)) return ERROR;
  if (!(step instanceof ListValue)) return quantizeScalar(value, a, step);
  let last: Value = new Real(0);
  for (const item of step.items) {
    const b = toRealNumber(item);
    if (isExceptional(b)) return ERROR;
    if (b >= a) return item;
    last = item;
  }
  return quantizeScalar(value, a, last);
}

/**
 * `random()` in [0, 1); `random(n)` an integer in [0, n) or a real in [0, x); a limit that is not
 * positive is ERROR (§4.4).
 */
function random(args: readonly Value[]): Value {
  if (args.length === 0) return new Real(Math.random());
  if (args.length !== 1) return ERROR;
  const limit = args[0]!;
  if (typeof limit === "number") {
    return limit > 0 ? Math.floor(Math.random() * limit) : ERROR;
  }
  if (typeof limit === "bigint") {
    // Two 53-bit draws give plenty of bits for a 63-bit bound; the bias is negligible.
    if (limit <= 0n) return ERROR;
    const draw =
      (BigInt(Math.floor(Math.random() * 2 ** 53)) << 53n) |
      BigInt(Math.floor(Math.random() * 2 ** 53));
    return makeInteger(draw % limit);
  }
  if (limit instanceof Real) return limit.v > 0 ? new Real(Math.random() * limit.v) : ERROR;
  return ERROR;
}

export const MATH_FUNCTIONS: BuiltinTable = {
  floor: rounding(Math.floor),
  ceiling: rounding(Math.ceil),
  ceil: rounding(Math.ceil),
  round: rounding(roundHalfEven),
  pow,
  quantize,
  random,
};
