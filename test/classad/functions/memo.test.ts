import assert from "node:assert/strict";
import { test } from "node:test";
import { PatternCache, parseRegexOptions } from "../../../src/classad/functions/regex-cache.js";
import { SplitMemo, splitRaw } from "../../../src/classad/functions/string-list-tokens.js";

function countingSplit() {
  const calls: string[] = [];
  const split = (list: string, delimiters: string) => {
    calls.push(list);
    return splitRaw(list, delimiters);
  };
  return { calls, split };
}

test("a split list is reused for the same string and delimiters", () => {
  const { calls, split } = countingSplit();
  const memo = new SplitMemo(split, 4);
  const first = memo.tokens("a,b", ",");
  assert.equal(memo.tokens("a,b", ","), first);
  assert.deepEqual(first, ["a", "b"]);
  assert.deepEqual(calls, ["a,b"]);
  memo.tokens("a,b", ";");
  assert.deepEqual(calls, ["a,b", "a,b"]);
});

test("the memo forgets its oldest string beyond its capacity", () => {
  const { calls, split } = countingSplit();
  const memo = new SplitMemo(split, 2);
  memo.tokens("x", ",");
  memo.tokens("y", ",");
  memo.tokens("z", ",");
  memo.tokens("y", ",");
  memo.tokens("x", ",");
  assert.deepEqual(calls, ["x", "y", "z", "x"]);
});

test("very long strings are split but not kept", () => {
  const { calls, split } = countingSplit();
  const memo = new SplitMemo(split, 8);
  const long = "a,".repeat(5000);
  memo.tokens(long, ",");
  memo.tokens(long, ",");
  assert.equal(calls.length, 2);
});

test("the token set of a memoized list is built once", () => {
  const memo = new SplitMemo(splitRaw, 8);
  const tokens = memo.tokens("a b c", " ");
  assert.equal(memo.tokenSet(tokens), memo.tokenSet(tokens));
  assert.ok(memo.tokenSet(tokens).has("b"));
});

test("the pattern cache is bounded and remembers invalid patterns", () => {
  const cache = new PatternCache(3);
  const none = parseRegexOptions("");
  const a = cache.get("a+", none);
  assert.ok(a);
  assert.equal(cache.get("a+", none), a);
  assert.notEqual(cache.get("a+", parseRegexOptions("i")), a);
  assert.equal(cache.get("(", none), null);
  assert.equal(cache.size, 3);
  cache.get("b", none);
  assert.equal(cache.size, 3);
  assert.notEqual(cache.get("a+", none), a, "the oldest entry was compiled again");
});
