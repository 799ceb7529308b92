import assert from "node:assert/strict";
import { test } from "node:test";
import { Lexer, Tok } from "../../src/classad/lexer.js";
import { Real, UNDEFINED, ERROR } from "../../src/classad/value.js";
import { evalText } from "./helpers.js";

function tokens(text: string, oldStrings = false): string[] {
  const lx = new Lexer(text, oldStrings);
  const out: string[] = [];
  while (lx.cur() !== Tok.End) {
    if (lx.cur() === Tok.Invalid) {
      out.push(`INVALID(${lx.problem})`);
      break;
    }
    if (lx.cur() === Tok.Literal) {
      const v = lx.value;
      out.push(v instanceof Real ? `real:${v.v}` : `${typeof v}:${String(v)}`);
    } else if (lx.cur() === Tok.Name) {
      out.push(`name:${lx.text}`);
    } else {
      out.push(text.slice(lx.start, lx.tokenEnd));
    }
    lx.next();
  }
  return out;
}

test("integers, including int64 and the out-of-range quirk (§1.2)", () => {
  assert.deepEqual(tokens("123 0"), ["number:123", "number:0"]);
  assert.deepEqual(tokens("9007199254740993"), ["bigint:9007199254740993"]);
  assert.deepEqual(tokens("-9223372036854775808"), ["bigint:-9223372036854775808"]);
  assert.deepEqual(tokens("99999999999999999999"), ["number:0"]);
  assert.deepEqual(tokens("-007"), ["number:-7"]);
});

test("leading-zero integers are lexical errors in old semantics (§0, §1.2)", () => {
  assert.match(tokens("017")[0]!, /leading zero/);
  assert.match(tokens("00")[0]!, /leading zero/);
  assert.match(tokens("0x1F")[0]!, /INVALID/);
  assert.match(tokens("08")[0]!, /leading zero/);
  assert.deepEqual(tokens("09.5"), ["real:9.5"]);
});

test("reals need digits after '.' and in the exponent (§1.3)", () => {
  assert.deepEqual(tokens("1.5 .5 1e3 1E3 1.5E-2 0e5"), [
    "real:1.5",
    "real:0.5",
    "real:1000",
    "real:1000",
    "real:0.015",
    "real:0",
  ]);
  assert.match(tokens("5.")[0]!, /INVALID/);
  assert.match(tokens("1.e5")[0]!, /INVALID/);
  assert.match(tokens("1e")[0]!, /INVALID/);
  assert.match(tokens("1e+")[0]!, /INVALID/);
});

test("a minus before a number is part of it unless an operand precedes (§1.4)", () => {
  assert.deepEqual(tokens("-5"), ["number:-5"]);
  assert.deepEqual(tokens("3 -5"), ["number:3", "-", "number:5"]);
  assert.deepEqual(tokens("3 - -5"), ["number:3", "-", "number:-5"]);
  assert.deepEqual(tokens("x -1"), ["name:x", "-", "number:1"]);
  assert.deepEqual(tokens("(1) -1"), ["(", "number:1", ")", "-", "number:1"]);
  assert.deepEqual(tokens("- 5"), ["-", "number:5"]);
  assert.equal(evalText("2--3"), "5");
  assert.equal(evalText("3 -5"), "-2");
});

test("new-syntax string escapes, octal and adjacent concatenation (§1.5)", () => {
  assert.equal(evalText('"a\\tb\\"c\\\\d\\101\\x"'), '"a\\tb\\"c\\\\dAx"');
  assert.equal(evalText('"\\777"'), '"?7"');
  assert.equal(evalText('"ab\\"cd\\ef"'), '"ab\\"cdef"');
  assert.equal(evalText('"abc" "def"'), '"abcdef"');
  assert.equal(evalText('"abc" /*c*/ "def"'), "PARSE-ERROR");
  assert.equal(evalText('"\\0"'), "PARSE-ERROR");
  assert.equal(evalText('"\\342\\200\\223" == "–"'), "true");
  assert.equal(evalText('"unterminated'), "PARSE-ERROR");
});

test("old-syntax strings: backslash only escapes a quote (§1.5)", () => {
  assert.deepEqual(tokens('"ab\\"cd\\ef"', true), ['string:ab"cd\\ef']);
  assert.deepEqual(tokens('"a\\nb"', true), ["string:a\\nb"]);
  assert.deepEqual(tokens('"ends with\\"', true), ["string:ends with\\"]);
  assert.deepEqual(tokens('"a" "b"', true), ["string:a", "string:b"]);
});

test("quoted names and case-insensitive keywords (§1.6, §1.7)", () => {
  assert.deepEqual(tokens("'a b' tRuE FALSE Undefined ERROR is ISNT true1 is_x"), [
    "name:a b",
    "boolean:true",
    "boolean:false",
    `symbol:${String(UNDEFINED)}`,
    `symbol:${String(ERROR)}`,
    "is",
    "ISNT",
    "name:true1",
    "name:is_x",
  ]);
  assert.equal(evalText("c", "[ 'a b' = 3; c = 'A B' + 1 ]"), "4");
});

test("comments, operators and the elvis token with inner whitespace (§1.1, §1.8)", () => {
  assert.deepEqual(tokens("a // c\n+ /* x */ b"), ["name:a", "+", "name:b"]);
  assert.match(tokens("1 /* open")[1]!, /unterminated/);
  assert.deepEqual(tokens(">>> >> >= > << <= < =?= =!= == != = ?: ? x : && ||"), [
    ">>>",
    ">>",
    ">=",
    ">",
    "<<",
    "<=",
    "<",
    "=?=",
    "=!=",
    "==",
    "!=",
    "=",
    "?:",
    "?",
    "name:x",
    ":",
    "&&",
    "||",
  ]);
  assert.deepEqual(tokens("x ? : 3"), ["name:x", "? :", "number:3"]);
  assert.match(tokens("\\")[0]!, /INVALID/);
});
