import assert from "node:assert/strict";
import { test } from "node:test";
import { ClassAd } from "../../src/classad/index.js";
import { FIXED_CLOCK, evalText } from "./helpers.js";

const AD1 =
  "[ A = MY.X; B = TARGET.X; C = MY.Y; D = TARGET.Y; E = Y; G = MY.Z; H = TARGET.Z; J = TARGET.K; L = 5; X = 1; Z = 4 ]";
const AD2 = "[ X = 2; Y = 3; K = TARGET.L ]";

test("MY, TARGET and the old-semantics fallback in a match context (§3.2, OTEST scoping)", () => {
  const expected: Record<string, string> = {
    A: "1",
    B: "2",
    C: "undefined",
    D: "3",
    E: "3",
    G: "4",
    H: "undefined",
    J: "5",
  };
  for (const [name, value] of Object.entries(expected)) {
    assert.equal(evalText(name, AD1, AD2), value, name);
  }
});

test("an attribute fetched from TARGET evaluates in TARGET's scope, MY and TARGET swapped", () => {
  const my = "[ L = 5; X = 1 ]";
  const target = "[ K = TARGET.L; M = L; N = X; X = 2; P = MY.X; Q = MY.L ]";
  assert.equal(evalText("TARGET.K", my, target), "5");
  assert.equal(evalText("TARGET.N", my, target), "2");
  assert.equal(evalText("TARGET.P", my, target), "2");
  assert.equal(evalText("TARGET.Q", my, target), "undefined");
  assert.equal(evalText("M", my, target), "5");
});

test("single-ad context: MY works, TARGET is undefined (§1.11, classad_eval tests)", () => {
  assert.equal(evalText("MY.x", "[x = 7; z = 10]"), "7");
  assert.equal(evalText("TARGET.x", "[x = 7]"), "undefined");
  assert.equal(evalText("x", "[x=7; z=10]", "[x=8; y=9]"), "7");
  assert.equal(evalText("y", "[x=7; z=10]", "[x=8; y=9]"), "9");
  assert.equal(evalText("MY.y", "[x=7; z=10]", "[x=8; y=9]"), "undefined");
  assert.equal(evalText("x", undefined, "[x=8; y=9]"), "8");
  assert.equal(evalText("MY.x", undefined, "[x=8; y=9]"), "undefined");
  assert.equal(evalText("OTHER.x + target.X", "[x=1]", "[x=8]"), "16");
});

test("names are case-insensitive everywhere", () => {
  assert.equal(evalText("my.MEMORY + Target.memory", "[Memory = 1]", "[memory = 2]"), "3");
  assert.equal(evalText("[Foo = 1].fOO"), "1");
  assert.equal(evalText('[a = 1; b = 2]["A"]'), "1");
});

test("nested ads: parent, self, absolute and toplevel references (§1.11)", () => {
  const ad = "[d = 5; e = [f = d; g = parent.d; h = self.f; i = .d; j = toplevel.d]]";
  for (const name of ["e.f", "e.g", "e.h", "e.i", "e.j", "root.d"]) {
    assert.equal(evalText(name, ad), "5", name);
  }
  assert.equal(evalText("B[0].Y + C", "[ A = 4; B = {[Y = 1; Z = A]}; C = B[0].Z ]"), "5");
});

test("select, subscript and list projection (§1.11, §1.12)", () => {
  const cases: [string, string][] = [
    ["undefined.x", "undefined"],
    ["error.x", "error"],
    ["(5).x", "error"],
    ["[a=1].c", "undefined"],
    ["{1,2,3}[1]", "2"],
    ["{1,2,3}[3]", "error"],
    ["{1,2,3}[-1]", "error"],
    ["{1,2,3}[1.0]", "error"],
    ["{1,2,3}[undefined]", "undefined"],
    ['[a=1;b=2]["c"]', "undefined"],
    ["[a=1][0]", "error"],
    ["{[a=3],[a=2],[b=1]}.a", "{ 3,2,undefined }"],
    ["{[a=1], 5}.a", "{ 1,error }"],
    ["{}.a", "{  }"],
  ];
  for (const [expr, value] of cases) assert.equal(evalText(expr), value, expr);
});

test("CurrentTime is implicit unless the ad defines it (§3.4)", () => {
  assert.equal(evalText("CurrentTime"), String(FIXED_CLOCK.now()));
  assert.equal(evalText("currenttime", "[CurrentTime = 3]"), "3");
});

test("evaluate(name, target) is HTCondor's EvalAttr: own attribute, else the target's", () => {
  const job = ClassAd.parse("[ Rank = TARGET.Mips * 2; Own = 1 ]");
  const slot = ClassAd.parse("[ Mips = 10; Theirs = MY.Mips ]");
  assert.equal(job.evaluate("rank", slot), 20);
  assert.equal(job.evaluate("Theirs", slot), 10);
  assert.equal(typeof job.evaluate("nothing", slot), "symbol");
});
