/** Shorthands for building and showing ClassAd values in table-driven tests. */
import {
  type ClassAdLike,
  ERROR,
  ListValue,
  Real,
  UNDEFINED,
  type Value,
  isClassAd,
} from "../../../src/classad/value.js";

export { ERROR, UNDEFINED };

export const real = (v: number): Real => new Real(v);
export const list = (...items: Value[]): ListValue => new ListValue(items);

/** A stand-in classad: attributes in a plain object (enough for functions that only count them). */
export function ad(attrs: Record<string, Value> = {}): ClassAdLike {
  return { isClassAd: true, attrs } as ClassAdLike;
}

/** A typed, unambiguous rendering: `int:3`, `real:3`, `real:-0`, `bool:true`, `str:"a"`... */
export function show(v: Value): string {
  switch (typeof v) {
    case "symbol":
      return v === UNDEFINED ? "undefined" : "error";
    case "boolean":
      return `bool:${v}`;
    case "number":
      return Object.is(v, -0) ? "int:-0 (bad)" : `int:${v}`;
    case "bigint":
      return `int:${v}n`;
    case "string":
      return `str:${JSON.stringify(v)}`;
    default:
      if (v instanceof Real) return `real:${Object.is(v.v, -0) ? "-0" : String(v.v)}`;
      if (v instanceof ListValue) return `list:{${v.items.map(show).join(",")}}`;
      if (isClassAd(v)) return "classad";
      return "unknown";
  }
}
