import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { makeInteger } from "../../../src/classad/value.js";
import { call, real, show } from "./values.js";

const int64 = fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n });
/** List items with no delimiter or white space in them. */
const token = fc.stringMatching(/^[A-Za-z0-9_]{1,6}$/);

test("stricmp(a, b) has the sign of strcmp(tolower(a), tolower(b))", () => {
  fc.assert(
    fc.property(fc.string(), fc.string(), (a, b) => {
      const folded = call("strcmp", call("tolower", a), call("tolower", b));
      assert.equal(call("stricmp", a, b), folded);
    }),
  );
});

test("strcmp is antisymmetric and zero only for equal strings", () => {
  fc.assert(
    fc.property(fc.string({ unit: "binary" }), fc.string({ unit: "binary" }), (a, b) => {
      const ab = call("strcmp", a, b) as number;
      assert.equal(ab, -(call("strcmp", b, a) as number) || 0);
      assert.equal(ab === 0, a === b);
    }),
  );
});

test("int(real(n)) is n for every safe integer", () => {
  fc.assert(
    fc.property(fc.maxSafeInteger(), (n) => {
      assert.equal(show(call("int", call("real", n))), show(n));
    }),
  );
});

test("int(string(n)) is n for every 64-bit integer", () => {
  fc.assert(
    fc.property(int64, (n) => {
      const v = makeInteger(n);
      assert.equal(show(call("int", call("string", v))), show(v));
    }),
  );
});

test("stringListMember agrees with membership in the joined tokens", () => {
  fc.assert(
    fc.property(fc.array(token), token, (tokens, item) => {
      const joined = tokens.join(", ");
      assert.equal(call("stringListMember", item, joined), tokens.includes(item));
      assert.equal(call("stringListSize", joined), tokens.length);
    }),
  );
});

test("stringListsIntersect is true exactly when the lists share an item, either way round", () => {
  fc.assert(
    fc.property(fc.array(token, { maxLength: 12 }), fc.array(token, { maxLength: 12 }), (a, b) => {
      const expected = a.some((t) => b.includes(t));
      assert.equal(call("stringListsIntersect", a.join(","), b.join(" ")), expected);
      assert.equal(call("stringListsIntersect", b.join(" , "), a.join(",")), expected);
    }),
  );
});

test("stringListSubsetMatch agrees with every item being a member", () => {
  fc.assert(
    fc.property(fc.array(token, { maxLength: 5 }), fc.array(token, { maxLength: 8 }), (a, b) => {
      const expected = a.every((t) => b.includes(t));
      assert.equal(call("stringListSubsetMatch", a.join(","), b.join(",")), expected);
    }),
  );
});

test("quantize of integers is the least multiple not below the value", () => {
  fc.assert(
    fc.property(fc.integer({ min: -1e6, max: 1e6 }), fc.integer({ min: 1, max: 1000 }), (a, b) => {
      const q = call("quantize", a, b) as number;
      assert.ok(q >= a && q - b < a && q % b === 0, `${q}`);
    }),
  );
});

test("round agrees with floor and ceiling and picks the nearer one", () => {
  fc.assert(
    fc.property(fc.double({ min: -1e12, max: 1e12, noNaN: true }), (x) => {
      const r = call("round", real(x)) as number;
      const lo = call("floor", real(x)) as number;
      const hi = call("ceiling", real(x)) as number;
      assert.ok(r === lo || r === hi);
      assert.ok(Math.abs(r - x) <= 0.5);
    }),
  );
});
