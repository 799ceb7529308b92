import assert from "node:assert/strict";
import { test } from "node:test";
import { ClassAd, ClassAdParseError, parseExpression } from "../../src/classad/index.js";
import { evalText, parseErrorOf } from "./helpers.js";

test("errors carry line and column of the offending token", () => {
  const text = "[\n  a = 1;\n  b = (2 + ;\n]";
  try {
    ClassAd.parse(text);
    assert.fail("expected a parse error");
  } catch (err) {
    assert.ok(err instanceof ClassAdParseError);
    assert.equal(err.line, 3);
    assert.equal(err.column, 12);
    assert.equal(err.message, "line 3, column 12: expected an expression but found ';'");
  }
});

test("a missing closing bracket names what was expected", () => {
  assert.equal(
    parseErrorOf(() => ClassAd.parse("[ a = 1; b = 2")),
    "line 1, column 15: expected ';' or ']' after the attribute's expression but found end of input",
  );
  assert.equal(
    parseErrorOf(() => parseExpression("(1 + 2")),
    "line 1, column 7: expected ')' but found end of input",
  );
});

test("missing ';' between attributes is an error; repeated ';' are fine (§1.9)", () => {
  assert.match(
    parseErrorOf(() => ClassAd.parse("[ a = 1 b = 2 ]")),
    /column 9: expected ';' or ']'/,
  );
  assert.equal(ClassAd.parse("[ ;; a = 1;; b = 2; ]").size, 2);
  assert.equal(ClassAd.parse("[]").size, 0);
});

test("trailing commas in lists and argument lists are errors (§1.9)", () => {
  assert.equal(evalText("{1,2,}"), "PARSE-ERROR");
  assert.equal(evalText("{,}"), "PARSE-ERROR");
  assert.equal(evalText('strcat("a","b",)'), "PARSE-ERROR");
});

test("';' separates function arguments in old semantics (§0)", () => {
  assert.equal(evalText('strcat("a"; "b")'), '"ab"');
});

test("a full parse rejects trailing tokens", () => {
  assert.match(
    parseErrorOf(() => parseExpression("1 2")),
    /expected end of input but found '2'/,
  );
});

test("lexical errors are reported with their reason", () => {
  assert.match(
    parseErrorOf(() => parseExpression("017")),
    /column 1: integer '017' has a leading zero/,
  );
  assert.match(
    parseErrorOf(() => parseExpression("x +\n  5.")),
    /line 2, column 3: a '\.' in a number/,
  );
  assert.match(
    parseErrorOf(() => parseExpression('"abc')),
    /unterminated string/,
  );
});

test("long form: errors name the line; a line without '=' is rejected", () => {
  assert.equal(
    parseErrorOf(() => ClassAd.parse("A = 1\n# comment\nB = (1 +\n")),
    "line 3, column 9: expected an expression but found end of input",
  );
  assert.match(
    parseErrorOf(() => ClassAd.parse("A = 1\nnonsense\n")),
    /^line 2, column 1: expected 'Name = expression'/,
  );
  assert.match(
    parseErrorOf(() => ClassAd.parse("'quoted' = 1\n")),
    /invalid attribute name/,
  );
});
