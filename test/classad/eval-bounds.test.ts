import assert from "node:assert/strict";
import { test } from "node:test";
import {
  ClassAd,
  ERROR,
  type Expr,
  MAX_LIST_LENGTH,
  MAX_STRING_LENGTH,
  SYSTEM_CLOCK,
  compileExpression,
  createEvalBudget,
  symmetricMatch,
} from "../../src/classad/index.js";

const big = "x".repeat(600_000);

function lit(value: string): Expr {
  return { kind: "literal", value };
}

test("replaceall cannot grow a string past the cap: ERROR, and the bound is named", () => {
  // Every character of a 600,000-character target replaced by 1,000: 600 MB if unbounded.
  const ad = new ClassAd();
  ad.set("Big", lit(big));
  ad.set("Boom", 'replaceall(".", Big, strcat(Big, Big))');
  const budget = createEvalBudget(1_000_000);
  const before = process.memoryUsage().rss;
  assert.equal(ad.evaluate("Boom", null, { ctx: { ...SYSTEM_CLOCK, budget } }), ERROR);
  assert.equal(budget.hit, "string_length");
  // Bounded growth: a few times the cap, never hundreds of megabytes.
  assert.ok(process.memoryUsage().rss - before < 200 * 1024 * 1024);
});

test("strcat past the cap is ERROR; doubling through references meets a bound either way", () => {
  const ad = new ClassAd();
  ad.set("Big", lit(big));
  const budget = createEvalBudget(1_000_000);
  const ctx = { ...SYSTEM_CLOCK, budget };
  assert.equal(ad.evaluateExpr("strcat(Big, Big)", null, { ctx }), ERROR);
  assert.equal(budget.hit, "string_length");
  // Just under the cap is still fine.
  const fits = "y".repeat(MAX_STRING_LENGTH - big.length);
  assert.equal((ad.evaluateExpr(`strcat(Big, "${fits}")`) as string).length, MAX_STRING_LENGTH);

  const lines = ['A0 = "xxxxxxxxxxxxxxxx"'];
  for (let i = 1; i <= 40; i++) lines.push(`A${i} = strcat(A${i - 1}, A${i - 1})`);
  const doubling = ClassAd.parse(`[ ${lines.join("; ")} ]`);
  const shared = createEvalBudget(1_000_000);
  assert.equal(doubling.evaluate("A40", null, { ctx: { ...SYSTEM_CLOCK, budget: shared } }), ERROR);
  assert.notEqual(shared.hit, null);
});

test("join over a long list stops at the string cap", () => {
  const ad = new ClassAd();
  ad.set("Big", lit(big));
  ad.set("L", "{Big, Big, Big, Big, Big, Big, Big, Big}");
  assert.equal(ad.evaluate("L", null, {}) !== ERROR, true);
  assert.equal(ad.evaluateExpr('join(",", L)'), ERROR);
});

test("split cannot build a list past the list cap", () => {
  const ad = new ClassAd();
  ad.set("Many", lit("a ".repeat(MAX_LIST_LENGTH + 10)));
  const budget = createEvalBudget(10_000_000);
  assert.equal(
    ad.evaluateExpr("size(split(Many))", null, { ctx: { ...SYSTEM_CLOCK, budget } }),
    ERROR,
  );
  assert.equal(budget.hit, "list_length");
  ad.set("Few", lit("a ".repeat(1000)));
  assert.equal(ad.evaluateExpr("size(split(Few))"), 1000);
});

test("a shared budget spans evaluations: once spent, every further evaluation is ERROR", () => {
  const ad = ClassAd.parse('[ S = "abcdefghij"; R = regexp("a.*j", S) && regexp("b", S) ]');
  const fn = compileExpression("R");
  const budget = createEvalBudget(100);
  const ctx = { ...SYSTEM_CLOCK, budget };
  let answered = 0;
  for (let i = 0; i < 1000; i++) {
    if (ad.evaluateExpr(fn, null, { ctx }) === true) answered++;
    else break;
  }
  assert.ok(answered > 0 && answered < 100, `answered ${answered}`);
  assert.equal(budget.hit, "steps");
  assert.ok(budget.steps <= 0);
  assert.equal(ad.evaluateExpr(fn, null, { ctx }), ERROR);
});

test("reading a big string costs steps in proportion to its size", () => {
  const ad = new ClassAd();
  ad.set("Big", lit(big));
  const small = createEvalBudget(1_000_000);
  ad.evaluateExpr('regexp("y", "short")', null, { ctx: { ...SYSTEM_CLOCK, budget: small } });
  const large = createEvalBudget(1_000_000);
  ad.evaluateExpr('regexp("y", Big)', null, { ctx: { ...SYSTEM_CLOCK, budget: large } });
  assert.ok(1_000_000 - large.steps > 1000, `charged ${1_000_000 - large.steps}`);
  assert.ok(1_000_000 - small.steps < 10);
});

test("matchmaking draws on a shared budget too", () => {
  const job = ClassAd.parse('[ Requirements = regexp("x", TARGET.Big) ]');
  const slot = new ClassAd();
  slot.set("Big", lit(big));
  slot.set("Requirements", "true");
  const budget = createEvalBudget(1_000_000);
  const ctx = { ...SYSTEM_CLOCK, budget };
  let matched = 0;
  for (let i = 0; i < 10; i++) if (symmetricMatch(job, slot, ctx)) matched++;
  assert.ok(matched >= 1 && matched < 10, `matched ${matched}`);
  assert.equal(budget.hit, "steps");
});

test("without a shared budget, evaluation behaves as before", () => {
  const ad = ClassAd.parse('[ S = "abc"; R = size(split("a b c")) == 3 && regexp("b", S) ]');
  assert.equal(ad.evaluate("R"), true);
});
