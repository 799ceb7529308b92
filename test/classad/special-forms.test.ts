import assert from "node:assert/strict";
import { test } from "node:test";
import { evalText } from "./helpers.js";

test("ifThenElse evaluates only the chosen branch (§4.2)", () => {
  const cases: [string, string, string?][] = [
    ["ifThenElse(1+1==2, 3, 4)", "3"],
    ["ifThenElse(1+1==3, 3, 4)", "4"],
    ["ifThenElse(ERROR, 3, 4)", "error"],
    ["ifThenElse(UNDEFINED, 3, 4)", "undefined"],
    ['ifThenElse("", 3, 4)', "error"],
    ["ifThenElse(true, 1)", "error"],
    ["ifThenElse(0.0, 1, 2)", "2"],
    ["ifThenElse(3.7, 1, 2)", "1"],
    ['ifThenElse(A > 5, 4 / 0, "small")', '"small"', "[A = 2]"],
    ['ifThenElse(A > 5, "big", 4 / 0)', '"big"', "[A = 10]"],
    ['ifThenElse(C > 5, "big", "small")', "undefined"],
    ["IFTHENELSE(false, 1, 2)", "2"],
  ];
  for (const [expr, value, my] of cases) assert.equal(evalText(expr, my), value, expr);
});

test("eval parses its argument in full and evaluates it in the current ad (§4.9)", () => {
  assert.equal(evalText('eval("1+1")'), "2");
  assert.equal(evalText("eval(1+1)"), "2");
  assert.equal(evalText('eval("1+")'), "error");
  assert.equal(evalText('eval("1 2")'), "error");
  assert.equal(evalText("eval(undefined)"), "error");
  assert.equal(evalText("C", '[A = 1; B = 2; C = eval("A+B")]'), "3");
  assert.equal(
    evalText(
      'eval(strcat("slot", SlotID + 10, "_State"))',
      '[SlotID = 5; slot15_State = "Claimed"]',
    ),
    '"Claimed"',
  );
  assert.equal(evalText('eval("TARGET.x")', "[]", "[x = 4]"), "4");
});

test("unparse gives an attribute's expression text (§4.9)", () => {
  const ad = "[ R = x + 3; W = a && b; N = 1.5 ]";
  assert.equal(evalText("unparse(R)", ad), '"x + 3"');
  assert.equal(evalText("unparse(W)", ad), '"a && b"');
  assert.equal(evalText("unparse(N)", ad), '"1.500000000000000E+00"');
  assert.equal(evalText("unparse(nosuch)", ad), '""');
  assert.equal(evalText("unparse(1)", ad), "error");
  assert.equal(evalText("unparse(TARGET.q)", ad, "[q = y * 2]"), '"y * 2"');
});

test("evalInEachContext and countMatches evaluate in each listed ad (OTEST)", () => {
  const ad =
    "[ job1 = [Prio = 2; task = 1]; job2 = [Prio = 3; task = 2]; jobtest = Prio > 2; joblist = {job1, job2}; withhole = {job1, job0, job2} ]";
  assert.equal(evalText("countMatches(jobtest, joblist)", ad), "1");
  assert.equal(evalText("countMatches(Prio < 2, joblist)", ad), "0");
  assert.equal(evalText("countMatches(task, joblist)", ad), "2");
  assert.equal(evalText("evalInEachContext(jobtest, joblist)", ad), "{ false,true }");
  assert.equal(evalText("evalInEachContext(task, joblist)", ad), "{ 1,2 }");
  assert.equal(evalText("evalInEachContext(jobtest, withhole)", ad), "{ false,undefined,true }");
  assert.equal(evalText("countMatches(jobtest, nolist)", ad), "0");
  assert.equal(evalText("evalInEachContext(jobtest, nolist)", ad), "undefined");
});

test("unknown functions parse and evaluate to ERROR (§1.7)", () => {
  assert.equal(evalText("foo(1)"), "error");
  assert.equal(evalText("isError(foo(1))"), "true");
});

test("unresolved lists the names an attribute reads that nothing defines (§4.9)", () => {
  const ad = "[ R = x + 3; S = R * y + TARGET.z + MY.w; T = 1 ]";
  assert.equal(evalText("unresolved(R)", ad), '"x"');
  assert.equal(evalText("unresolved(S)", ad), '"x,y,z"');
  assert.equal(evalText("unresolved(S)", ad, "[y = 1]"), '"x,z"');
  assert.equal(evalText('unresolved(S, "^[xz]")', ad), '"x,z"');
  assert.equal(evalText("unresolved(T)", ad), '""');
  assert.equal(evalText("unresolved(1)", ad), "error");
  assert.equal(evalText("unresolved(nosuch)", ad), "undefined");
});
