import assert from "node:assert/strict";
import { describe, test } from "node:test";
import * as op from "../../src/classad/operators.js";
import type { Value } from "../../src/classad/value.js";
import { ERROR, UNDEFINED, ad, list, real, show } from "./functions/values.js";

type Binary = (a: Value, b: Value) => Value;

const INT64_MAX = 9223372036854775807n;
const INT64_MIN = -9223372036854775808n;
const SAFE = Number.MAX_SAFE_INTEGER;

function table(name: string, rows: ReadonlyArray<readonly [string, Binary, Value, Value, Value]>) {
  describe(name, () => {
    for (const [text, fn, a, b, expected] of rows) {
      test(`${text} => ${show(expected)}`, () => {
        assert.equal(show(fn(a, b)), show(expected));
      });
    }
  });
}

table("strictness (§2.2)", [
  ["UNDEFINED == ERROR", op.eq, UNDEFINED, ERROR, ERROR],
  ["UNDEFINED + ERROR", op.add, UNDEFINED, ERROR, ERROR],
  ["ERROR + UNDEFINED", op.add, ERROR, UNDEFINED, ERROR],
  ['"a" == UNDEFINED', op.eq, "a", UNDEFINED, UNDEFINED],
  ["10 == UNDEFINED", op.eq, 10, UNDEFINED, UNDEFINED],
  ["UNDEFINED == UNDEFINED", op.eq, UNDEFINED, UNDEFINED, UNDEFINED],
  ["UNDEFINED != UNDEFINED", op.ne, UNDEFINED, UNDEFINED, UNDEFINED],
  ["10 != UNDEFINED", op.ne, 10, UNDEFINED, UNDEFINED],
  ['"a" + UNDEFINED', op.add, "a", UNDEFINED, UNDEFINED],
  ["{1} < ERROR", op.lt, list(1), ERROR, ERROR],
  ["UNDEFINED & 1", op.bitAnd, UNDEFINED, 1, UNDEFINED],
  ["ERROR << UNDEFINED", op.shl, ERROR, UNDEFINED, ERROR],
  ["UNDEFINED % 0", op.mod, UNDEFINED, 0, UNDEFINED],
]);

table("arithmetic (§2.4)", [
  ["1 + 2", op.add, 1, 2, 3],
  ["3 - 1", op.sub, 3, 1, 2],
  ["2 * 3", op.mul, 2, 3, 6],
  ["8 / 2", op.div, 8, 2, 4],
  ["3 - 5", op.sub, 3, 5, -2],
  ["3 - -5", op.sub, 3, -5, 8],
  ['10 * "A string"', op.mul, 10, "A string", ERROR],
  ['"a" + "b"', op.add, "a", "b", ERROR],
  ["true + 1", op.add, true, 1, 2],
  ["true + true", op.add, true, true, 2],
  ["false - true", op.sub, false, true, -1],
  ["true + 1.5", op.add, true, real(1.5), real(2.5)],
  ["1 + 2.5", op.add, 1, real(2.5), real(3.5)],
  ["2.0 * 3", op.mul, real(2), 3, real(6)],
  ["7 / 2", op.div, 7, 2, 3],
  ["-7 / 2", op.div, -7, 2, -3],
  ["7 / -2", op.div, 7, -2, -3],
  ["-1 / 2 (no negative zero)", op.div, -1, 2, 0],
  ["0 * -5 (no negative zero)", op.mul, 0, -5, 0],
  ["-7 % 3", op.mod, -7, 3, -1],
  ["7 % -3", op.mod, 7, -3, 1],
  ["-6 % 3 (no negative zero)", op.mod, -6, 3, 0],
  ["7 / 0", op.div, 7, 0, ERROR],
  ["7 % 0", op.mod, 7, 0, ERROR],
  ["7 / false", op.div, 7, false, ERROR],
  ["7.5 % 2", op.mod, real(7.5), 2, ERROR],
  ["5 % 2.0", op.mod, 5, real(2), ERROR],
  ["7.0 / 0", op.div, real(7), 0, ERROR],
  ["-7.0 / 0", op.div, real(-7), 0, real(-Infinity)],
  ["0.0 / 0", op.div, real(0), 0, real(NaN)],
  ["7 / 2.0", op.div, 7, real(2), real(3.5)],
  ['real("INF") + 1', op.add, real(Infinity), 1, ERROR],
  ["1e308 * 10.0 overflows to +inf", op.mul, real(1e308), real(10), ERROR],
  ['real("-INF") - 1', op.sub, real(-Infinity), 1, real(-Infinity)],
  ["{1} + 1", op.add, list(1), 1, ERROR],
  ["[] + 1", op.add, ad(), 1, ERROR],
  ["1 - []", op.sub, 1, ad(), ERROR],
]);

table("64-bit integers (§2.4)", [
  ["MAX_SAFE + 1 leaves the safe range", op.add, SAFE, 1, 9007199254740992n],
  ["MAX_SAFE + 2 is exact", op.add, SAFE, 2, 9007199254740993n],
  ["INT64_MAX + 1 wraps", op.add, INT64_MAX, 1, INT64_MIN],
  ["INT64_MIN - 1 wraps", op.sub, INT64_MIN, 1, INT64_MAX],
  ["bigint - bigint back into the safe range", op.sub, 9007199254740993n, 9007199254740992n, 1],
  ["2^32 * 2^32 wraps to 0", op.mul, 4294967296, 4294967296, 0],
  ["3037000500 * 3037000500 wraps", op.mul, 3037000500, 3037000500, -9223372036709301616n],
  ["(2^53 + 1) * 1 is exact", op.mul, 9007199254740993n, 1, 9007199254740993n],
  ["INT64_MIN / -1", op.div, INT64_MIN, -1, INT64_MAX],
  ["INT64_MIN % -1", op.mod, INT64_MIN, -1, 0],
  ["INT64_MAX / 2", op.div, INT64_MAX, 2, 4611686018427387903n],
  ["-(2^53+1) % 10", op.mod, -9007199254740993n, 10, -3],
  ["INT64_MAX / 0", op.div, INT64_MAX, 0, ERROR],
  ["(2^53 + 1) + 0.0 is a real", op.add, 9007199254740993n, real(0), real(9007199254740992)],
]);

table("comparison (§2.5)", [
  ["1 == 1.0", op.eq, 1, real(1), true],
  ["true == 1", op.eq, true, 1, true],
  ["true < 2", op.lt, true, 2, true],
  ["true < 3 (as in 1 < 2 < 3)", op.lt, true, 3, true],
  ["true > 1 (as in 3 > 2 > 1)", op.gt, true, 1, false],
  ["false < true", op.lt, false, true, true],
  ['"abc" == "ABC"', op.eq, "abc", "ABC", true],
  ['"a" < "B"', op.lt, "a", "B", true],
  ['"B" > "a"', op.gt, "B", "a", true],
  ['"_" < "A"', op.lt, "_", "A", true],
  ['"_" < "a"', op.lt, "_", "a", true],
  ['"[" < "a" ([ sits between Z and a)', op.lt, "[", "a", true],
  ['"[" < "A" (A folds to a, after [)', op.lt, "[", "A", true],
  ['"Bone Machine" == "bone machine"', op.eq, "Bone Machine", "bone machine", true],
  ['"ABC" != "abc"', op.ne, "ABC", "abc", false],
  ['"ab" < "abc"', op.lt, "ab", "abc", true],
  ['"abc" <= "ABC"', op.le, "abc", "ABC", true],
  ['"abd" >= "ABC"', op.ge, "abd", "ABC", true],
  ['"é" == "É" (only ASCII folds)', op.eq, "é", "É", false],
  ['"\\u{1F600}" > "\\uFFFD" (code point order)', op.gt, "\u{1F600}", "\uFFFD", true],
  ['10 == "ABC"', op.eq, 10, "ABC", ERROR],
  ['10 != "ABC"', op.ne, 10, "ABC", ERROR],
  ['true == "true"', op.eq, true, "true", ERROR],
  ['"1" < 2', op.lt, "1", 2, ERROR],
  ["{1} == {1}", op.eq, list(1), list(1), ERROR],
  ["[] == []", op.eq, ad(), ad(), ERROR],
  ["10 == 10", op.eq, 10, 10, true],
  ["10 == 5", op.eq, 10, 5, false],
  ["10 != 10", op.ne, 10, 10, false],
  ["10 != 5", op.ne, 10, 5, true],
  ["2 <= 2", op.le, 2, 2, true],
  ["2 >= 3", op.ge, 2, 3, false],
  ["0.0 == -0.0", op.eq, real(0), real(-0), true],
  ["NaN == NaN", op.eq, real(NaN), real(NaN), false],
  ["NaN != NaN", op.ne, real(NaN), real(NaN), true],
  ["NaN < 1", op.lt, real(NaN), 1, false],
  ["2^53 + 1 > 2^53", op.gt, 9007199254740993n, 9007199254740992n, true],
  ["INT64_MIN < -1", op.lt, INT64_MIN, -1, true],
  ["1 < 1.5", op.lt, 1, real(1.5), true],
  ["2.5 >= 2", op.ge, real(2.5), 2, true],
]);

table("meta-equality (§2.6)", [
  ["1 =?= 1.0", op.metaEq, 1, real(1), false],
  ["true =?= 1", op.metaEq, true, 1, false],
  ['"abc" =?= "ABC"', op.metaEq, "abc", "ABC", false],
  ['"abc" is "abc"', op.metaEq, "abc", "abc", true],
  ['"a" =!= "A"', op.metaNe, "a", "A", true],
  ["ERROR =?= ERROR", op.metaEq, ERROR, ERROR, true],
  ["ERROR =!= UNDEFINED", op.metaNe, ERROR, UNDEFINED, true],
  ['10 =?= "ABC"', op.metaEq, 10, "ABC", false],
  ["10 =?= 10", op.metaEq, 10, 10, true],
  ["10 =?= 5", op.metaEq, 10, 5, false],
  ["10 =?= UNDEFINED", op.metaEq, 10, UNDEFINED, false],
  ["UNDEFINED =?= UNDEFINED", op.metaEq, UNDEFINED, UNDEFINED, true],
  ["10 =!= 10", op.metaNe, 10, 10, false],
  ["10 =!= 5", op.metaNe, 10, 5, true],
  ['10 =!= "ABC"', op.metaNe, 10, "ABC", true],
  ['"ABC" =!= "abc"', op.metaNe, "ABC", "abc", true],
  ["10 =!= UNDEFINED", op.metaNe, 10, UNDEFINED, true],
  ["UNDEFINED =!= UNDEFINED", op.metaNe, UNDEFINED, UNDEFINED, false],
  ["{1} =?= {1}", op.metaEq, list(1), list(1), ERROR],
  ["{1} =!= {1}", op.metaNe, list(1), list(1), ERROR],
  ["[a=1] =?= [a=1]", op.metaEq, ad({ a: 1 }), ad({ a: 1 }), ERROR],
  ["{1} =?= 1", op.metaEq, list(1), 1, false],
  ["[] =?= {}", op.metaEq, ad(), list(), false],
  ["{} =?= []", op.metaEq, list(), ad(), false],
  ["[] =!= 1.0", op.metaNe, ad(), real(1), true],
  ["1.5 =?= 1.5", op.metaEq, real(1.5), real(1.5), true],
  ["2^53 + 1 =?= 2^53 + 1", op.metaEq, 9007199254740993n, 9007199254740993n, true],
  ["true =?= true", op.metaEq, true, true, true],
]);

table("bitwise and shifts (§2.10)", [
  ["5 & 3", op.bitAnd, 5, 3, 1],
  ["5 | 3", op.bitOr, 5, 3, 7],
  ["5 ^ 3", op.bitXor, 5, 3, 6],
  ["1 << 4", op.shl, 1, 4, 16],
  ["-16 >> 2", op.shr, -16, 2, -4],
  ["-1 >>> 60", op.ushr, -1, 60, 15],
  ["-1 >>> 0", op.ushr, -1, 0, -1],
  ["-1 >>> 1", op.ushr, -1, 1, INT64_MAX],
  ["16 >>> 2", op.ushr, 16, 2, 4],
  ["true & 1", op.bitAnd, true, 1, ERROR],
  ["1 | 1.0", op.bitOr, 1, real(1), ERROR],
  ['"a" ^ 1', op.bitXor, "a", 1, ERROR],
  ["1 << 62", op.shl, 1, 62, 4611686018427387904n],
  ["1 << 63", op.shl, 1, 63, INT64_MIN],
  ["1 << 64 shifts everything out", op.shl, 1, 64, 0],
  ["-5 >> 100 keeps the sign", op.shr, -5, 100, -1],
  ["5 >> 100", op.shr, 5, 100, 0],
  ["1 << -1", op.shl, 1, -1, ERROR],
  ["2^40 & (2^40 + 1)", op.bitAnd, 2 ** 40, 2 ** 40 + 1, 2 ** 40],
  ["-1 & 2^52", op.bitAnd, -1, 2 ** 52, 2 ** 52],
  ["(2^53 + 1) | 2", op.bitOr, 9007199254740993n, 2, 9007199254740995n],
  ["INT64_MIN ^ -1", op.bitXor, INT64_MIN, -1, INT64_MAX],
  ["-2147483648 & -1 (32-bit edge)", op.bitAnd, -2147483648, -1, -2147483648],
  ["2147483647 | 2147483648", op.bitOr, 2147483647, 2147483648, 4294967295],
]);

describe("unary operators (§2.4, §2.7, §2.10)", () => {
  const rows: ReadonlyArray<readonly [string, (a: Value) => Value, Value, Value]> = [
    ["-5", op.negate, 5, -5],
    ["-(-5)", op.negate, -5, 5],
    ["-0 is integer 0", op.negate, 0, 0],
    ["-(0.0)", op.negate, real(0), real(-0)],
    ["-1.5", op.negate, real(1.5), real(-1.5)],
    ["-true", op.negate, true, ERROR],
    ['-"a"', op.negate, "a", ERROR],
    ["-{1}", op.negate, list(1), ERROR],
    ["-UNDEFINED", op.negate, UNDEFINED, UNDEFINED],
    ["-ERROR", op.negate, ERROR, ERROR],
    ["-INT64_MIN wraps", op.negate, INT64_MIN, INT64_MIN],
    ["-INT64_MAX", op.negate, INT64_MAX, INT64_MIN + 1n],
    ["-(-2^53) stays a bigint", op.negate, -9007199254740992n, 9007199254740992n],
    ["+3", op.unaryPlus, 3, 3],
    ["+1.5", op.unaryPlus, real(1.5), real(1.5)],
    ["+true", op.unaryPlus, true, ERROR],
    ['+"3"', op.unaryPlus, "3", ERROR],
    ["+{}", op.unaryPlus, list(), ERROR],
    ["+[]", op.unaryPlus, ad(), ERROR],
    ["+UNDEFINED", op.unaryPlus, UNDEFINED, UNDEFINED],
    ["!true", op.not, true, false],
    ["!false", op.not, false, true],
    ["!undefined", op.not, UNDEFINED, UNDEFINED],
    ["!error", op.not, ERROR, ERROR],
    ["!5", op.not, 5, false],
    ["!0.0", op.not, real(0), true],
    ["!0", op.not, 0, true],
    ['!"a"', op.not, "a", ERROR],
    ["!{}", op.not, list(), ERROR],
    ["~0", op.bitNot, 0, -1],
    ["~5", op.bitNot, 5, -6],
    ["~MAX_SAFE", op.bitNot, SAFE, -9007199254740992n],
    ["~INT64_MAX", op.bitNot, INT64_MAX, INT64_MIN],
    ["~true", op.bitNot, true, ERROR],
    ["~1.0", op.bitNot, real(1), ERROR],
    ["~UNDEFINED", op.bitNot, UNDEFINED, UNDEFINED],
  ];
  for (const [text, fn, a, expected] of rows) {
    test(`${text} => ${show(expected)}`, () => assert.equal(show(fn(a)), show(expected)));
  }
});

describe("toLogical (§2.7, §2.8)", () => {
  const rows: ReadonlyArray<readonly [string, Value, Value]> = [
    ["true", true, true],
    ["false", false, false],
    ["5", 5, true],
    ["0", 0, false],
    ["0.0", real(0), false],
    ["2.5", real(2.5), true],
    ["NaN (non-zero to C)", real(NaN), true],
    ["2^53 + 1", 9007199254740993n, true],
    ["undefined", UNDEFINED, UNDEFINED],
    ["error", ERROR, ERROR],
    ['"s"', "s", ERROR],
    ['""', "", ERROR],
    ["{}", list(), ERROR],
    ["[]", ad(), ERROR],
  ];
  for (const [text, v, expected] of rows) {
    test(`${text} => ${show(expected)}`, () => assert.equal(show(op.toLogical(v)), show(expected)));
  }
});
