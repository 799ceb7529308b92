/**
 * argsToList, listToArgs, envV1ToV2, mergeEnvironment (SEMANTICS §4 intro). The syntax examples
 * are condor_submit's manual ones, written as a job ad stores them (no outer double quotes, and
 * `""` already turned into `"`).
 */
import { ERROR, UNDEFINED, list, table } from "./values.js";

table("argsToList (V2 by default, V1 on request)", [
  ["argsToList", ["3 simple arguments"], list("3", "simple", "arguments")],
  ["argsToList", ["one 'two with spaces' 3"], list("one", "two with spaces", "3")],
  [
    "argsToList",
    [`one "two" 'spacey ''quoted'' argument'`],
    list("one", '"two"', "spacey 'quoted' argument"),
  ],
  ["argsToList", ["  a\tb  "], list("a", "b")],
  ["argsToList", ["a '' b"], list("a", "", "b")],
  ["argsToList", ["x'y z'w"], list("xy zw")],
  ["argsToList", [""], list()],
  ["argsToList", ["'open"], ERROR],
  ["argsToList", ["one 'two' three", 1], list("one", "'two'", "three")],
  ["argsToList", ["a b", 2], list("a", "b")],
  ["argsToList", ["a", 3], ERROR],
  ["argsToList", ["a", "2"], ERROR],
  ["argsToList", [UNDEFINED], UNDEFINED],
  ["argsToList", [1], ERROR],
  ["argsToList", [], ERROR],
]);

table("listToArgs", [
  ["listToArgs", [list("3", "simple", "arguments")], "3 simple arguments"],
  [
    "listToArgs",
    [list("one", '"two"', "spacey 'quoted' argument")],
    `one "two" 'spacey ''quoted'' argument'`,
  ],
  ["listToArgs", [list("a", "")], "a ''"],
  ["listToArgs", [list()], ""],
  ["listToArgs", [list("a", "b"), 1], "a b"],
  ["listToArgs", [list("a b"), 1], ERROR],
  ["listToArgs", [list(""), 1], ERROR],
  ["listToArgs", [list("a", 1)], ERROR],
  ["listToArgs", [list("a", UNDEFINED)], ERROR],
  ["listToArgs", ["a b"], ERROR],
  ["listToArgs", [UNDEFINED], UNDEFINED],
  ["listToArgs", [list("a"), 0], ERROR],
]);

table("envV1ToV2", [
  [
    "envV1ToV2",
    [`one=1;two=2;three="quotes have no 'special' meaning"`],
    `one=1 'three="quotes have no ''special'' meaning"' two=2`,
  ],
  ["envV1ToV2", ["A=1;;B=;A=3"], "A=3 B="],
  ["envV1ToV2", ["PATH=/bin:/usr/bin"], "PATH=/bin:/usr/bin"],
  ["envV1ToV2", [""], ""],
  ["envV1ToV2", ["NOVALUE"], ERROR],
  ["envV1ToV2", ["=1"], ERROR],
  ["envV1ToV2", [UNDEFINED], UNDEFINED],
  ["envV1ToV2", [1], ERROR],
  ["envV1ToV2", ["a=1", "b=2"], ERROR],
]);

table("mergeEnvironment (later values win)", [
  [
    "mergeEnvironment",
    [`one=1 two="2" three='spacey ''quoted'' value'`],
    `one=1 'three=spacey ''quoted'' value' two="2"`,
  ],
  ["mergeEnvironment", ["A=1 B=2", "B=3 C=4"], "A=1 B=3 C=4"],
  ["mergeEnvironment", ["A=1", UNDEFINED, "A=2"], "A=2"],
  ["mergeEnvironment", [UNDEFINED], ""],
  ["mergeEnvironment", [], ""],
  ["mergeEnvironment", ["A=1", "B"], ERROR],
  ["mergeEnvironment", ["A='1"], ERROR],
  ["mergeEnvironment", ["A=1", 2], ERROR],
]);
