import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { ClassAd, ListValue, Real } from "../../src/classad/index.js";

const AD = ClassAd.parse(`[
  S = "text"; I = 7; R = 2.5; B = true; L = { "a", "b" }; Mixed = { "a", 1 };
  Sum = I + 1; Half = I / 2.0; Cond = I > 3; Err = 1 / "x"; Undef = Nowhere;
  Big = 9223372036854775807; NumText = "3"
]`);

test("getString: strings only; missing, undefined, error and other types are undefined", () => {
  assert.equal(AD.getString("s"), "text");
  assert.equal(AD.getString("NumText"), "3");
  for (const n of ["I", "B", "L", "Err", "Undef", "Missing"])
    assert.equal(AD.getString(n), undefined, n);
});

test("getNumber: integers and reals, evaluated; booleans and strings are not numbers", () => {
  assert.equal(AD.getNumber("I"), 7);
  assert.equal(AD.getNumber("R"), 2.5);
  assert.equal(AD.getNumber("Sum"), 8);
  assert.equal(AD.getNumber("Half"), 3.5);
  assert.equal(AD.getNumber("Big"), Number(2n ** 63n - 1n));
  for (const n of ["B", "NumText", "Err", "Undef", "Missing"])
    assert.equal(AD.getNumber(n), undefined, n);
});

test("getInteger: integers in JS's safe range only; reals and int64 beyond 2^53 are undefined", () => {
  assert.equal(AD.getInteger("I"), 7);
  assert.equal(AD.getInteger("Sum"), 8);
  for (const n of ["R", "Half", "Big", "B", "NumText", "Missing"])
    assert.equal(AD.getInteger(n), undefined, n);
});

test("getBool: booleans only (an integer is not a boolean here)", () => {
  assert.equal(AD.getBool("B"), true);
  assert.equal(AD.getBool("Cond"), true);
  for (const n of ["I", "S", "Err", "Undef", "Missing"]) assert.equal(AD.getBool(n), undefined, n);
});

test("getStringList: lists of strings only", () => {
  assert.deepEqual(AD.getStringList("L"), ["a", "b"]);
  for (const n of ["Mixed", "S", "Missing"]) assert.equal(AD.getStringList(n), undefined, n);
});

test("getters do not fall back to a target ad and names are case-insensitive", () => {
  assert.equal(AD.getString("S"), AD.getString("s"));
  assert.equal(AD.getNumber("TARGET.I"), undefined);
});

test("property: a value set with setValue reads back with the matching getter", () => {
  fc.assert(
    fc.property(
      fc.string({ maxLength: 40 }),
      fc.integer(),
      // Reals print with 16 significant digits (%.15E), so only short ones survive the text form.
      fc.integer({ min: -1e6, max: 1e6 }).map((n) => n / 4),
      fc.boolean(),
      fc.array(fc.string({ maxLength: 10 }), { maxLength: 5 }),
      (s, i, r, b, l) => {
        const ad = new ClassAd()
          .setValue("S", s)
          .setValue("I", i)
          .setValue("R", new Real(r))
          .setValue("B", b)
          .setValue("L", new ListValue(l));
        const again = ClassAd.fromJSON(ad.toJSON());
        for (const x of [ad, again]) {
          assert.equal(x.getString("S"), s);
          assert.equal(x.getInteger("I"), i);
          assert.equal(x.getNumber("R"), r);
          assert.equal(x.getBool("B"), b);
          assert.deepEqual(x.getStringList("L"), l);
        }
      },
    ),
  );
});
