import assert from "node:assert/strict";
import { test } from "node:test";
import {
  ClassAd,
  ListValue,
  Real,
  UNDEFINED,
  compileExpression,
  unparseExpr,
} from "../../src/classad/index.js";

test("parse auto-detects the syntax: '[' first means new syntax, else the long form", () => {
  const fresh = ClassAd.parse('  \n [ a = 1; b = "x" ]');
  const old = ClassAd.parse('# a comment\n\na = 1\n   b = "x"\n');
  assert.deepEqual(fresh.toJSON(), { a: "1", b: '"x"' });
  assert.deepEqual(old.toJSON(), { a: "1", b: '"x"' });
});

test("the long form ignores text after a complete expression, like HTCondor (§1.10)", () => {
  assert.equal(ClassAd.parse("A = 1 2\n").evaluate("A"), 1);
});

test("names are case-insensitive, first spelling kept; set replaces, delete removes", () => {
  const ad = ClassAd.parse("[ Memory = 1 ]");
  ad.set("MEMORY", "2 * 3");
  assert.equal(ad.evaluate("memory"), 6);
  assert.deepEqual(ad.names(), ["Memory"]);
  assert.ok(ad.has("mEmOrY"));
  ad.setValue("Sites", new ListValue(["a", new Real(1.5)]));
  assert.equal(ad.toString(), '[ Memory = 2 * 3; Sites = { "a",1.500000000000000E+00 } ]');
  assert.equal(ad.delete("MEMORY"), true);
  assert.equal(ad.evaluate("Memory"), UNDEFINED);
  assert.equal(ad.size, 1);
});

test("iteration yields names and expressions in insertion order", () => {
  const ad = ClassAd.parse("[ b = 1; a = b + 1 ]");
  assert.deepEqual(
    [...ad].map(([name, expr]) => `${name}=${unparseExpr(expr)}`),
    ["b=1", "a=b + 1"],
  );
});

test("wire form: name to expression text, and back", () => {
  const ad = ClassAd.parse(
    '[ Requirements = TARGET.Memory >= 1024 && Arch == "X86_64"; R = 0.25; L = {1, 2} ]',
  );
  const wire = ad.toJSON();
  assert.deepEqual(wire, {
    Requirements: 'TARGET.Memory >= 1024 && Arch == "X86_64"',
    R: "2.500000000000000E-01",
    L: "{ 1,2 }",
  });
  const back = ClassAd.fromJSON(JSON.parse(JSON.stringify(wire)) as Record<string, string>);
  assert.equal(back.toString(), ad.toString());
});

test("a compiled expression is reusable across ads; changing an attribute takes effect", () => {
  const expr = compileExpression("Cpus * 2");
  const a = ClassAd.parse("[ Cpus = 2 ]");
  const b = ClassAd.parse("[ Cpus = 5 ]");
  assert.equal(a.evaluateExpr(expr), 4);
  assert.equal(b.evaluateExpr(expr), 10);
  a.set("Cpus", "3");
  assert.equal(a.evaluateExpr(expr), 6);
});

test("evaluation results do not depend on earlier evaluations (no stale state)", () => {
  const ad = ClassAd.parse("[ a = b; b = a; c = 1 ]");
  assert.equal(ad.evaluate("a"), UNDEFINED);
  assert.equal(ad.evaluate("c"), 1);
  assert.equal(ad.evaluate("a"), UNDEFINED);
});
