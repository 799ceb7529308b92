import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import * as op from "../../src/classad/operators.js";
import { ERROR, type Value, makeInteger } from "../../src/classad/value.js";
import { show } from "./functions/values.js";

const int64 = fc.oneof(
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
  fc.bigInt({ min: -(2n ** 54n), max: 2n ** 54n }),
  fc.bigInt({ min: -1000n, max: 1000n }),
);

/** C semantics on int64, computed with BigInt as a reference. */
const reference: Record<string, (a: bigint, b: bigint) => bigint | undefined> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => (b === 0n ? undefined : a === -(2n ** 63n) && b === -1n ? 2n ** 63n - 1n : a / b),
  mod: (a, b) => (b === 0n ? undefined : a % b),
};

const implementations: Record<string, (a: Value, b: Value) => Value> = {
  add: op.add,
  sub: op.sub,
  mul: op.mul,
  div: op.div,
  mod: op.mod,
};

for (const name of Object.keys(reference)) {
  test(`integer ${name} matches 64-bit C arithmetic, across the number/bigint boundary`, () => {
    fc.assert(
      fc.property(int64, int64, (a, b) => {
        const expected = reference[name]!(a, b);
        const actual = implementations[name]!(makeInteger(a), makeInteger(b));
        assert.equal(show(actual), show(expected === undefined ? ERROR : makeInteger(expected)));
      }),
    );
  });
}

test("integer comparisons match BigInt comparisons", () => {
  fc.assert(
    fc.property(int64, int64, (a, b) => {
      const x = makeInteger(a);
      const y = makeInteger(b);
      assert.equal(op.lt(x, y), a < b);
      assert.equal(op.le(x, y), a <= b);
      assert.equal(op.gt(x, y), a > b);
      assert.equal(op.ge(x, y), a >= b);
      assert.equal(op.eq(x, y), a === b);
      assert.equal(op.ne(x, y), a !== b);
      assert.equal(op.metaEq(x, y), a === b);
    }),
  );
});

test("bitwise operators match BigInt on int64", () => {
  fc.assert(
    fc.property(int64, int64, fc.integer({ min: 0, max: 63 }), (a, b, n) => {
      const x = makeInteger(a);
      const y = makeInteger(b);
      assert.equal(show(op.bitAnd(x, y)), show(makeInteger(a & b)));
      assert.equal(show(op.bitOr(x, y)), show(makeInteger(a | b)));
      assert.equal(show(op.bitXor(x, y)), show(makeInteger(a ^ b)));
      assert.equal(show(op.bitNot(x)), show(makeInteger(~a)));
      assert.equal(show(op.shl(x, n)), show(makeInteger(a << BigInt(n))));
      assert.equal(show(op.shr(x, n)), show(makeInteger(a >> BigInt(n))));
      assert.equal(show(op.ushr(x, n)), show(makeInteger(BigInt.asUintN(64, a) >> BigInt(n))));
    }),
  );
});

test("string == is case-insensitive equality of ASCII-folded strings", () => {
  const fold = (s: string) => s.replace(/[A-Z]/g, (c) => c.toLowerCase());
  fc.assert(
    fc.property(fc.string(), fc.string(), (a, b) => {
      assert.equal(op.eq(a, b), fold(a) === fold(b));
      assert.equal(op.metaEq(a, b), a === b);
      const lt = op.lt(a, b);
      const gt = op.gt(a, b);
      assert.equal(lt === true && gt === true, false);
      assert.equal(lt === false && gt === false, fold(a) === fold(b));
    }),
  );
});
