import assert from "node:assert/strict";
import { test } from "node:test";
import { ClassAd, ERROR, MAX_DEPTH, UNDEFINED, parseExpression } from "../../src/classad/index.js";
import { evalText, parseErrorOf } from "./helpers.js";

test("100,000 nested parentheses, brackets or braces are a parse error, not a crash", () => {
  const n = 100_000;
  for (const [open, close] of [
    ["(", ")"],
    ["{", "}"],
  ]) {
    const message = parseErrorOf(() => parseExpression(open.repeat(n) + "1" + close.repeat(n)));
    assert.match(message, /nested more than 1000 deep/);
  }
  assert.match(
    parseErrorOf(() => ClassAd.parse("[a = ".repeat(n) + "1" + "]".repeat(n))),
    /nested/,
  );
  assert.match(
    parseErrorOf(() => parseExpression("!".repeat(n) + "x")),
    /nested/,
  );
  assert.match(
    parseErrorOf(() => parseExpression("-".repeat(n) + "x")),
    /nested/,
  );
  assert.match(
    parseErrorOf(() => parseExpression("x ?: ".repeat(n) + "1")),
    /nested/,
  );
  assert.match(
    parseErrorOf(() => parseExpression("a[".repeat(n) + "0" + "]".repeat(n))),
    /nested/,
  );
});

test("nesting up to the limit parses and evaluates", () => {
  const depth = MAX_DEPTH - 2;
  assert.equal(evalText("(".repeat(depth) + "7" + ")".repeat(depth)), "7");
});

test("long flat expressions are fine", () => {
  const sum = Array.from({ length: 20_000 }, () => "1").join(" + ");
  assert.equal(evalText(sum), "20000");
});

test("self-reference evaluates to UNDEFINED (current HTCondor, §3.3)", () => {
  const ad = ClassAd.parse("[a = b; b = a; c = c + 1; d = isUndefined(a); e = isError(c)]");
  assert.equal(ad.evaluate("a"), UNDEFINED);
  assert.equal(ad.evaluate("c"), UNDEFINED);
  assert.equal(ad.evaluate("d"), true);
  assert.equal(ad.evaluate("e"), false);
  assert.equal(evalText("[a = b; b = a].a"), "undefined");
});

test("an exponential blow-up runs out of steps and gives ERROR", () => {
  const lines = ["a0 = 1"];
  for (let i = 1; i <= 40; i++) lines.push(`a${i} = a${i - 1} + a${i - 1}`);
  const ad = ClassAd.parse(lines.join("\n"));
  const start = Date.now();
  assert.equal(ad.evaluate("a40"), ERROR);
  assert.ok(Date.now() - start < 20_000);
  assert.equal(ad.evaluate("a10"), 1024);
});

test("a very long chain of references stops at the depth limit with ERROR", () => {
  const n = 5000;
  const lines = ["x0 = 0"];
  for (let i = 1; i <= n; i++) lines.push(`x${i} = x${i - 1} + 1`);
  const ad = ClassAd.parse(lines.join("\n"));
  assert.equal(ad.evaluate(`x${n}`), ERROR);
  assert.equal(ad.evaluate("x300"), 300);
});

test("eval() cannot recurse forever: the depth limit gives ERROR", () => {
  assert.equal(evalText("a", '[s = "eval(s)"; a = eval(s)]'), "error");
  assert.equal(evalText("a", '[s = "eval(t)"; t = "eval(s)"; a = eval(s)]'), "error");
});
