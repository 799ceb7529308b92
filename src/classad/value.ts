/**
 * Runtime values of the ClassAd language, chosen so the hot path allocates nothing:
 *
 * | ClassAd type | representation                                                            |
 * |--------------|---------------------------------------------------------------------------|
 * | undefined    | the symbol `UNDEFINED`                                                    |
 * | error        | the symbol `ERROR`                                                        |
 * | boolean      | a JS `boolean`                                                            |
 * | integer      | a JS `number` that is a safe integer; a `bigint` (always within int64 and |
 * |              | outside the safe range) for the rest of the 64-bit range                  |
 * | real         | a `Real` box (integers are far more common than reals in ads)             |
 * | string       | a JS `string`                                                             |
 * | list         | a `ListValue` (a frozen array of values)                                  |
 * | classad      | any object implementing `ClassAdLike` (the engine's `ClassAd`)            |
 * | abstime      | an `AbsTime` box: epoch seconds and the zone offset it is shown in        |
 * | reltime      | a `RelTime` box: a duration in seconds (may have a fraction)              |
 */

export const UNDEFINED: unique symbol = Symbol("undefined");
export const ERROR: unique symbol = Symbol("error");
export type Undefined = typeof UNDEFINED;
export type ErrorValue = typeof ERROR;

/** A real (double) value; boxed so that `1` (integer) and `1.0` (real) stay distinct. */
export class Real {
  constructor(readonly v: number) {}
}

/**
 * An absolute time (HTCondor's `abstime_t`): whole seconds since the epoch, and the offset of the
 * zone it was written in, in seconds east of UTC. Two abstimes compare by `secs` alone (§2.5).
 */
export class AbsTime {
  constructor(
    readonly secs: number,
    readonly offset: number,
  ) {}
}

/** A relative time (a duration) in seconds; HTCondor keeps it as a double. */
export class RelTime {
  constructor(readonly secs: number) {}
}

/** A list value. */
export class ListValue {
  constructor(readonly items: readonly Value[]) {}
}

/** What a classad value must offer; the engine's `ClassAd` class implements it. */
export interface ClassAdLike {
  readonly isClassAd: true;
}

export type Value =
  | Undefined
  | ErrorValue
  | boolean
  | number
  | bigint
  | Real
  | string
  | ListValue
  | AbsTime
  | RelTime
  | ClassAdLike;

export type TypeName =
  | "undefined"
  | "error"
  | "boolean"
  | "integer"
  | "real"
  | "string"
  | "list"
  | "classad"
  | "abstime"
  | "reltime";

export function typeOf(v: Value): TypeName {
  switch (typeof v) {
    case "symbol":
      return v === UNDEFINED ? "undefined" : "error";
    case "boolean":
      return "boolean";
    case "number":
    case "bigint":
      return "integer";
    case "string":
      return "string";
    default:
      if (v instanceof Real) return "real";
      if (v instanceof ListValue) return "list";
      if (v instanceof AbsTime) return "abstime";
      if (v instanceof RelTime) return "reltime";
      return "classad";
  }
}

export const INT64_MIN = -(2n ** 63n);
export const INT64_MAX = 2n ** 63n - 1n;

/** Normalise an integer result: wrap to int64 (C semantics) and unbox to `number` when safe. */
export function makeInteger(n: number | bigint): number | bigint {
  if (typeof n === "number") {
    if (Number.isSafeInteger(n)) return n;
    return makeInteger(BigInt(Math.trunc(n)));
  }
  const wrapped = BigInt.asIntN(64, n);
  return wrapped >= -9007199254740991n && wrapped <= 9007199254740991n ? Number(wrapped) : wrapped;
}

export function isInteger(v: Value): v is number | bigint {
  return typeof v === "number" || typeof v === "bigint";
}

export function isNumber(v: Value): v is number | bigint | Real {
  return typeof v === "number" || typeof v === "bigint" || v instanceof Real;
}

export function isClassAd(v: Value): v is ClassAdLike {
  return typeof v === "object" && v !== null && (v as ClassAdLike).isClassAd === true;
}

/** The numeric value of an integer, real or boolean (booleans promote to 0/1), else undefined. */
export function toJsNumber(v: Value): number | undefined {
  switch (typeof v) {
    case "number":
      return v;
    case "bigint":
      return Number(v);
    case "boolean":
      return v ? 1 : 0;
    default:
      return v instanceof Real ? v.v : undefined;
  }
}
