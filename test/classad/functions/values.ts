/** Shorthands for building, calling and showing ClassAd values in table-driven tests. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { BUILTINS } from "../../../src/classad/functions/index.js";
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

/** A stand-in classad that only knows how many attributes it has. */
export function ad(attrs: Record<string, Value> = {}): ClassAdLike {
  return { isClassAd: true, size: Object.keys(attrs).length } as ClassAdLike;
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

export const NOW = 1_700_000_000;

/** Calls a built-in by (any-case) name with already evaluated arguments. */
export function call(name: string, ...args: Value[]): Value {
  const fn = BUILTINS.get(name.toLowerCase());
  assert.ok(fn, `no built-in ${name}`);
  return fn(args, { now: () => NOW });
}

export type Row = readonly [name: string, args: readonly Value[], expected: Value];

/** One test per row: `name(args...)` must give exactly `expected` (type and value). */
export function table(title: string, rows: readonly Row[]): void {
  describe(title, () => {
    for (const [name, args, expected] of rows) {
      test(`${name}(${args.map(show).join(", ")}) => ${show(expected)}`, () => {
        assert.equal(show(call(name, ...args)), show(expected));
      });
    }
  });
}
