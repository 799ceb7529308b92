import assert from "node:assert/strict";
import { test } from "node:test";
import { stripExtendedSyntax } from "../../../src/classad/functions/regex-cache.js";
import { ERROR, UNDEFINED, call, list, table } from "./values.js";

table("regexp (§4.6)", [
  ["regexp", ["Alain.*Roy", "Alain Aslag Roy"], true],
  ["regexp", ["alain.*roy", "Alain Aslag Roy"], false],
  ["regexp", ["alain.*roy", "Alain Aslag Roy", "i"], true],
  ["regexp", ["[Mm]atcH.i", "thisisamatchlist", "i"], true],
  ["regexp", ["([Mm]+[Nn]+)", "aaaaaaaaaabbbmmmmmNNNNNN", "i"], true],
  ["regexp", ["[Mm]atcH.i", "thisisalist", "i"], false],
  ["regexp", ["[Mm]atcH.i", "thisisamatchlist"], false],
  ["regexp", [20, "thisisamatchlist", "i"], ERROR],
  ["regexp", ["[Mm]atcH.i", 20, "i"], ERROR],
  ["regexp", ["[Mm]atcH.i", "thisisamatchlist", 20], ERROR],
  ["regexp", ["[", "abc"], ERROR],
  ["regexp", ["a", UNDEFINED], UNDEFINED],
  ["regexp", [UNDEFINED, ERROR], ERROR],
  ["regexp", [20, UNDEFINED], UNDEFINED],
  ["regexp", ["a", "b", UNDEFINED], UNDEFINED],
  // Both cases of option letters work here (the docs' promise; HTCondor ignores "I", §7).
  ["regexp", ["alain.*roy", "Alain Aslag Roy", "I"], true],
  ["regexp", ["alain.*roy", "Alain Aslag Roy", "qz"], false],
  ["regexp", ["^b", "a\nb"], false],
  ["regexp", ["^b", "a\nb", "m"], true],
  ["regexp", ["a.b", "a\nb"], false],
  ["regexp", ["a.b", "a\nb", "s"], true],
  ["regexp", ["a b c # letters\n", "abc", "x"], true],
  ["regexp", ["a b c", "abc"], false],
  ["regexp", ["(a)\\1", "aa"], ERROR],
  ["regexp", ["a(?=b)", "ab"], ERROR],
  ["regexp", ["a(?<=a)", "ab"], ERROR],
  ["regexp", ["\\d+", "abc123"], true],
  ["regexp", ["[[:alpha:]]+", "123"], false],
  ["regexp", ["(?i)ABC", "abc"], true],
  ["regexp", ["a"], ERROR],
  ["regexp", ["a", "a", "i", "x"], ERROR],
]);

test("a pattern that backtracks catastrophically in PCRE is answered by re2js", () => {
  assert.equal(call("regexp", "(a+)+$", "a".repeat(40) + "!"), false);
  assert.equal(call("regexp", "(a+)+$", "a".repeat(40)), true);
});

table("regexps, replace, replaceall (§4.6)", [
  ["regexps", ["[abc]*([def]*)[ghi]*", "aaaabbbbcccccdddeeefffggghhhiii", "\\1"], "dddeeefff"],
  ["regexps", ["[abc]*([def]*)[ghi]*", "abcdefghi", "\\0"], "abcdefghi"],
  ["regexps", ["[abc]*([def]*)[ghi]*", "abcdefghi", "\\2"], ERROR],
  ["regexps", ["[abc]*([def]*)[ghi]*", "NO", "\\0"], ""],
  [
    "regexps",
    ["([Mm]at)c(h).i", "thisisamatchlist", "one is \\1 two is \\2"],
    "one is mat two is h",
  ],
  ["regexps", ["s(.)", "thisisamatchlist", "S\\1", "f"], "thiSisamatchlist"],
  ["regexps", ["s(.)", "thisisamatchlist", "S\\1", "fg"], "thiSiSamatchliSt"],
  ["regexps", ["s(.)", "thisisamatchlist", "S\\1", "g"], "SiSaSt"],
  ["regexps", ["s(.)", "thisisamatchlist", "S\\1", "F"], "thiSisamatchlist"],
  ["replace", ["s(.)", "thisisamatchlist", "S\\1"], "thiSisamatchlist"],
  ["replaceall", ["s(.)", "thisisamatchlist", "S\\1"], "thiSiSamatchliSt"],
  ["regexps", ["foo (bar)", "foo bar", "\\1"], "bar"],
  ["regexps", ["x", "abc", "y", "f"], "abc"],
  ["replaceall", ["x*", "abc", "-"], "-a-b-c-"],
  ["replaceall", ["a*", "baac", "-"], "-b--c-"],
  ["replace", ["(a)|(b)", "b", "[\\1]"], "[]"],
  ["replace", ["b", "abc", "\\n\\"], "a\\n\\c"],
  ["replace", ["B", "abc", "x", "i"], "axc"],
  ["replaceall", ["😀?", "a😀", "-"], "-a--"],
  ["regexps", [1, "a", "b"], ERROR],
  ["regexps", ["a", 1, "b"], ERROR],
  ["regexps", ["a", "a", 1], ERROR],
  ["regexps", ["a", "a", "b", 1], ERROR],
  ["regexps", ["a", UNDEFINED, "b"], UNDEFINED],
  ["regexps", ["a", "a", ERROR], ERROR],
  ["replace", ["(", "a", "b"], ERROR],
  ["regexps", ["a", "a"], ERROR],
  ["replace", ["a", "a"], ERROR],
]);

table("regexpMember (§4.6)", [
  ["regexpMember", ["b.*", list()], false],
  ["regexpMember", ["b.*", list("aa")], false],
  ["regexpMember", ["b.*", list("aa", "bb")], true],
  ["regexpMember", ["b.*", list("bb", "aa")], true],
  ["regexpMember", ["b.*", list(1, "bb")], ERROR],
  ["regexpMember", ["b.*", list("bb", 1)], true],
  ["regexpMember", ["b.*", list(UNDEFINED, "aa")], UNDEFINED],
  ["regexpMember", ["b.*", list(UNDEFINED, "bb")], true],
  ["regexpMember", ["B.*", list("aa", "bb"), "i"], true],
  ["regexpMember", ["[", list("aa")], ERROR],
  ["regexpMember", ["b", "bb"], ERROR],
  ["regexpMember", ["b", UNDEFINED], UNDEFINED],
  ["regexpMember", [1, list()], ERROR],
  ["regexpMember", ["b"], ERROR],
]);

test("extended syntax drops white space and comments outside classes only", () => {
  assert.equal(stripExtendedSyntax("a b # comment\n c"), "abc");
  assert.equal(stripExtendedSyntax("[ a]"), "[ a]");
  assert.equal(stripExtendedSyntax("[] #]x"), "[] #]x");
  assert.equal(stripExtendedSyntax("a\\ b"), "a\\x20b");
  assert.equal(stripExtendedSyntax("a\\#b"), "a\\#b");
});
