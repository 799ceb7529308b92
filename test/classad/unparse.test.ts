import assert from "node:assert/strict";
import { test } from "node:test";
import {
  ClassAd,
  ListValue,
  Real,
  parseExpression,
  unparseExpr,
  unparseReal,
  unparseValue,
} from "../../src/classad/index.js";
import { evalText } from "./helpers.js";

test("reals: %1.15E in new syntax, %.16G (+ .0) in old syntax, specials (§1.10)", () => {
  assert.equal(unparseReal(1.5), "1.500000000000000E+00");
  assert.equal(unparseReal(-2.5e-7), "-2.500000000000000E-07");
  assert.equal(unparseReal(1e100), "1.000000000000000E+100");
  assert.equal(unparseReal(0), "0.0");
  assert.equal(unparseReal(-0), "-0.0");
  assert.equal(unparseReal(NaN), 'real("NaN")');
  assert.equal(unparseReal(-Infinity), 'real("-INF")');
  assert.equal(unparseReal(3, "old"), "3.0");
  assert.equal(unparseReal(0.1, "old"), "0.1");
  assert.equal(unparseReal(2 / 3, "old"), "0.6666666666666666");
  assert.equal(unparseReal(1e20, "old"), "1E+20");
  assert.equal(unparseReal(1e15, "old"), "1000000000000000.0");
  assert.equal(unparseReal(0.00001, "old"), "1E-05");
  assert.equal(unparseReal(0.0001, "old"), "0.0001");
});

test("strings: escapes and octal bytes in new syntax, raw in old (§1.10)", () => {
  assert.equal(unparseValue('a"b\\c\n\t'), '"a\\"b\\\\c\\n\\t"');
  assert.equal(unparseValue("–"), '"\\342\\200\\223"');
  assert.equal(unparseValue("it's"), '"it\'s"');
  assert.equal(unparseValue('a"b\\c', "old"), '"a\\"b\\c"');
});

test("lists, ads and scalars have HTCondor's spacing", () => {
  assert.equal(
    unparseValue(new ListValue([1, "a", new Real(2)])),
    '{ 1,"a",2.000000000000000E+00 }',
  );
  assert.equal(unparseValue(new ListValue([])), "{  }");
  assert.equal(evalText("[]"), "[  ]");
  assert.equal(evalText('[a = 1; b = "x"]'), '[ a = 1; b = "x" ]');
  assert.equal(evalText("[a = 1; A = 2]"), "[ a = 2 ]");
  assert.equal(evalText("{1, {2}, [c = 3]}"), "{ 1,{ 2 },[ c = 3 ] }");
});

test("expressions keep their parentheses; meta operators print as is/isnt in new syntax", () => {
  const e = parseExpression("(1 + 2) * 3 =?= x && !y || f(a,b) ? z.w[0] : q ?: -1");
  assert.equal(unparseExpr(e), "(1 + 2) * 3 is x && !y || f(a,b) ? z.w[0] : q ?: -1");
  assert.equal(unparseExpr(e, "old"), "(1 + 2) * 3 =?= x && !y || f(a,b) ? z.w[0] : q ?: -1");
  assert.equal(unparseExpr(parseExpression("1 =?= 1.0")), "1 is 1.000000000000000E+00");
  assert.equal(unparseExpr(parseExpression(".a + 'b c'.d")), ".a + 'b c'.d");
  assert.equal(unparseExpr(parseExpression("- 5")), "- 5");
  assert.equal(unparseExpr(parseExpression("-5")), "-5");
});

test("an ad prints in both syntaxes and reads back from both", () => {
  const ad = ClassAd.parse('[ Foo = 3; Bar = "ab\\"cd\\\\ef"; Moo = Foo =!= Undefined; R = 0.5 ]');
  assert.equal(
    ad.toString(),
    '[ Foo = 3; Bar = "ab\\"cd\\\\ef"; Moo = Foo isnt undefined; R = 5.000000000000000E-01 ]',
  );
  const old = ad.toString("old");
  assert.equal(old, 'Foo = 3\nBar = "ab\\"cd\\ef"\nMoo = Foo =!= undefined\nR = 0.5\n');
  assert.equal(ClassAd.parse(old).toString(), ad.toString());
});

test("the old long form from the docs reads like its new form (§1.10)", () => {
  const old = ClassAd.parse('Foo = 3\nBar = "ab\\"cd\\ef"\nMoo = Foo =!= Undefined\n');
  const fresh = ClassAd.parse('[ Foo = 3; Bar = "ab\\"cd\\\\ef"; Moo = Foo isnt Undefined; ]');
  assert.equal(old.toString(), fresh.toString());
  assert.equal(old.evaluate("Bar"), 'ab"cd\\ef');
});
