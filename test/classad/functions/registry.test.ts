import assert from "node:assert/strict";
import { test } from "node:test";
import { BUILTINS } from "../../../src/classad/functions/index.js";
import { ERROR, show } from "./values.js";

const VARIADIC = new Set(["strcat", "join"]);

test("built-in names are lower case", () => {
  for (const name of BUILTINS.keys()) assert.equal(name, name.toLowerCase());
});

test("the evaluator's special forms are not built-ins", () => {
  for (const name of ["ifthenelse", "eval", "unparse"]) assert.equal(BUILTINS.has(name), false);
});

test("every fixed-arity built-in answers ERROR to too many arguments", () => {
  const six = ["a", "b", "c", "d", "e", "f"];
  for (const [name, fn] of BUILTINS) {
    if (VARIADIC.has(name)) continue;
    assert.equal(show(fn(six, { now: () => 0 })), show(ERROR), name);
  }
});
