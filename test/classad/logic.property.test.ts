/**
 * Properties of the three-valued logic (SEMANTICS §2.7-§2.9) over operands of every kind,
 * evaluated through the compiler (operands are bound as attributes so nothing folds).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import {
  ClassAd,
  ERROR,
  ListValue,
  Real,
  UNDEFINED,
  type Value,
  sameValue,
  unparseValue,
} from "../../src/classad/index.js";

const operand: fc.Arbitrary<Value> = fc.oneof(
  fc.boolean(),
  fc.constant(UNDEFINED),
  fc.constant(ERROR),
  fc.integer({ min: -3, max: 3 }),
  fc.constantFrom(new Real(0), new Real(2.5), "s", new ListValue([1])),
);
const logical: fc.Arbitrary<Value> = fc.constantFrom(true, false, UNDEFINED, ERROR);

function evaluate(expr: string, a: Value, b: Value = UNDEFINED): Value {
  const ad = new ClassAd().setValue("a", a).setValue("b", b);
  return ad.evaluateExpr(expr);
}

function same(x: Value, y: Value, what: string): void {
  assert.ok(sameValue(x, y), `${what}: ${unparseValue(x)} vs ${unparseValue(y)}`);
}

test("false && x is false and true || x is true for any x (left short-circuit)", () => {
  fc.assert(
    fc.property(operand, (x) => {
      same(evaluate("false && a", x), false, "false && a");
      same(evaluate("true || a", x), true, "true || a");
    }),
  );
});

test("error on the left of && or || is error whatever the right", () => {
  fc.assert(
    fc.property(operand, (x) => {
      same(evaluate("error && a", x), ERROR, "error && a");
      same(evaluate("error || a", x), ERROR, "error || a");
    }),
  );
});

test("x && false is false unless x is error-like (error, string, list)", () => {
  fc.assert(
    fc.property(operand, (x) => {
      const errorLike = x === ERROR || typeof x === "string" || x instanceof ListValue;
      same(evaluate("a && false", x), errorLike ? ERROR : false, "a && false");
      same(evaluate("a || true", x), errorLike ? ERROR : true, "a || true");
    }),
  );
});

test("De Morgan holds over true, false and undefined", () => {
  const tfu = fc.constantFrom(true, false, UNDEFINED);
  fc.assert(
    fc.property(tfu, tfu, (x, y) => {
      same(evaluate("!(a && b)", x, y), evaluate("!a || !b", x, y), "!(a && b)");
      same(evaluate("!(a || b)", x, y), evaluate("!a && !b", x, y), "!(a || b)");
    }),
  );
});

test("&& and || are commutative over true, false and undefined, but not with error", () => {
  const tfu = fc.constantFrom(true, false, UNDEFINED);
  fc.assert(
    fc.property(tfu, tfu, (x, y) => {
      same(evaluate("a && b", x, y), evaluate("b && a", x, y), "a && b");
      same(evaluate("a || b", x, y), evaluate("b || a", x, y), "a || b");
    }),
  );
  same(evaluate("false && error", UNDEFINED), false, "false && error");
  same(evaluate("error && false", UNDEFINED), ERROR, "error && false");
});

test("results of && || ! on logical operands are logical values", () => {
  fc.assert(
    fc.property(logical, logical, (x, y) => {
      for (const e of ["a && b", "a || b", "!a"]) {
        const v = evaluate(e, x, y);
        assert.ok(typeof v === "boolean" || v === UNDEFINED || v === ERROR, e);
      }
    }),
  );
});

test("=?= never yields undefined and is the negation of =!= on scalars", () => {
  const scalar = fc.oneof(
    logical,
    fc.integer({ min: -2, max: 2 }),
    fc.constantFrom("a", "A", new Real(1)),
  );
  fc.assert(
    fc.property(scalar, scalar, (x, y) => {
      const is = evaluate("a =?= b", x, y);
      assert.equal(typeof is, "boolean");
      same(evaluate("a =!= b", x, y), !is, "a =!= b");
    }),
  );
});

test("elvis replaces only undefined; the ternary picks lazily", () => {
  fc.assert(
    fc.property(operand, (x) => {
      same(evaluate("a ?: 7", x), x === UNDEFINED ? 7 : x, "a ?: 7");
      same(evaluate("true ? a : error", x), x, "true ? a : error");
      same(evaluate("false ? error : a", x), x, "false ? error : a");
    }),
  );
});
