import assert from "node:assert/strict";
import { test } from "node:test";
import { joinV2, parseEnvironmentV2, splitV2 } from "../../src/pilot/runner/arguments.js";

test("V2 arguments: whitespace, single quotes, doubled quotes", () => {
  assert.deepEqual(splitV2("  a  b\tc "), { ok: true, words: ["a", "b", "c"] });
  assert.deepEqual(splitV2("'one two' three"), { ok: true, words: ["one two", "three"] });
  assert.deepEqual(splitV2("'it''s' x''y ''"), { ok: true, words: ["it's", "xy", ""] });
  assert.deepEqual(splitV2('say "hi"'), { ok: true, words: ["say", '"hi"'] });
  assert.deepEqual(splitV2("a'b c'd"), { ok: true, words: ["ab cd"] });
  assert.equal(splitV2("'open").ok, false);
});

test("V2 join is the inverse of split", () => {
  const words = ["plain", "two words", "it's", "", "tab\there"];
  assert.deepEqual(splitV2(joinV2(words)), { ok: true, words });
});

test("V2 environment", () => {
  assert.deepEqual(parseEnvironmentV2("A=1 'B=two words' C= D=x=y"), {
    ok: true,
    env: { A: "1", B: "two words", C: "", D: "x=y" },
  });
  assert.equal(parseEnvironmentV2("=bad").ok, false);
  assert.equal(parseEnvironmentV2("novalue").ok, false);
});
