/**
 * Absolute and relative time values (SEMANTICS §2.3, §2.4, §4): making, printing, taking apart,
 * converting and formatting them. Local time is an injected zone six hours west of UTC, so none
 * of this depends on the machine's time zone.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ClassAd, type Value, unparseValue } from "../../../src/classad/index.js";
import type { FnContext } from "../../../src/classad/functions/index.js";
import { NOW } from "./values.js";

const CHICAGO_WINTER = -6 * 3600;
const ctx: FnContext = { now: () => NOW, utcOffset: () => CHICAGO_WINTER };

function evaluate(expr: string): Value {
  return new ClassAd().evaluateExpr(expr, null, { ctx });
}

/** Each row: an expression and the text of its value (new-syntax unparse). */
function cases(title: string, rows: readonly (readonly [string, string])[]): void {
  describe(title, () => {
    for (const [expr, expected] of rows) {
      test(`${expr} => ${expected}`, () => assert.equal(unparseValue(evaluate(expr)), expected));
    }
  });
}

cases("absTime and relTime make time values; their text is HTCondor's", [
  ['absTime("2024-01-01T00:00:00+00:00")', 'absTime("2024-01-01T00:00:00+00:00")'],
  ['absTime("2024-01-01T00:00:00Z")', 'absTime("2024-01-01T00:00:00+00:00")'],
  ['absTime("1997-08-30T16:04:05-0500")', 'absTime("1997-08-30T16:04:05-05:00")'],
  ['absTime("1970-01-01T:00:00:01Z")', 'absTime("1970-01-01T00:00:01+00:00")'],
  ['absTime("19970830T160405+0530")', 'absTime("1997-08-30T16:04:05+05:30")'],
  // No zone: local time, in the injected zone.
  ['absTime("2004-01-01")', 'absTime("2004-01-01T00:00:00-06:00")'],
  ["absTime(0)", 'absTime("1969-12-31T18:00:00-06:00")'],
  ["absTime(0, 3600)", 'absTime("1970-01-01T01:00:00+01:00")'],
  ["absTime(86400.9, 0)", 'absTime("1970-01-02T00:00:00+00:00")'],
  ['absTime(relTime("1+00:00:00"), 0)', 'absTime("1970-01-02T00:00:00+00:00")'],
  [`absTime()`, unparseValue(evaluate(`absTime(${NOW})`))],
  [`currentTime()`, unparseValue(evaluate(`absTime(${NOW})`))],
  ['absTime("2024-02-30")', "error"],
  ['absTime("yesterday")', "error"],
  ["absTime(true)", "error"],
  // Beyond what a calendar can show, or a zone a day or more away from UTC.
  ["absTime(1000000000000000)", "error"],
  ["absTime(0, 86400)", "error"],
  ['absTime(1, "x")', "error"],
  ["absTime(undefined)", "undefined"],
  ['relTime("1+02:03:04")', 'relTime("1+02:03:04")'],
  ['relTime("2+25:14:16.123")', 'relTime("3+01:14:16.123")'],
  ['relTime("01:00:01")', 'relTime("01:00:01")'],
  ['relTime("1d2h3m4.5s")', 'relTime("1+02:03:4.5")'],
  ['relTime("90")', 'relTime("01:30")'],
  ['relTime("-5m")', 'relTime("-05:00")'],
  ["relTime(0)", 'relTime("00")'],
  ["relTime(3600.25)", 'relTime("01:00:0.25")'],
  ['relTime(absTime("1970-01-01T01:00:00Z"))', 'relTime("01:00:00")'],
  ['relTime("1:2:3:4")', "error"],
  ['relTime("soon")', "error"],
  ['relTime("")', "error"],
  ["relTime(undefined)", "undefined"],
  ["relTime({})", "error"],
  ["relTime()", "error"],
  ["timeZoneOffset()", 'relTime("-06:00:00")'],
]);

cases("time arithmetic and comparison (§2.4, §2.5)", [
  ['absTime("2024-01-01T00:00:00Z") + relTime("1:00")', 'absTime("2024-01-01T00:01:00+00:00")'],
  [
    'relTime("1:00") + absTime("2024-01-01T00:00:00+02:00")',
    'absTime("2024-01-01T00:01:00+02:00")',
  ],
  [
    'absTime("2024-01-01T00:00:00Z") - relTime("1+00:00:00")',
    'absTime("2023-12-31T00:00:00+00:00")',
  ],
  ['absTime("2024-01-01T01:00:00Z") - absTime("2024-01-01T00:00:00Z")', 'relTime("01:00:00")'],
  [
    'absTime("2024-01-01T00:00:00+01:00") - absTime("2024-01-01T00:00:00Z")',
    'relTime("-01:00:00")',
  ],
  ['relTime("1:00") + relTime("30")', 'relTime("01:30")'],
  ['relTime("1:00") - relTime("1:30")', 'relTime("-30")'],
  ['relTime("1:00") * 2', 'relTime("02:00")'],
  ['2.5 * relTime("1:00")', 'relTime("02:30")'],
  ['relTime("1:00") / 4', 'relTime("15")'],
  ['-relTime("1:00")', 'relTime("-01:00")'],
  ['+relTime("1:00")', 'relTime("01:00")'],
  ['relTime("1:00") / 0', "error"],
  ['relTime("1:00") % 7', "error"],
  ['absTime("2024-01-01T00:00:00Z") + absTime("2024-01-01T00:00:00Z")', "error"],
  ['absTime("2024-01-01T00:00:00Z") * 2', "error"],
  ['-absTime("2024-01-01T00:00:00Z")', "error"],
  ['absTime("2024-01-01T00:00:00Z") + 60', "error"],
  ['relTime("1:00") + 60', "error"],
  ['absTime("2024-01-01T00:00:00Z") + relTime(1000000000000000)', "error"],
  ['relTime("1:00") + undefined', "undefined"],
  // Abstimes compare by instant, not by the zone they are written in.
  ['absTime("2024-01-01T01:00:00+01:00") == absTime("2024-01-01T00:00:00Z")', "true"],
  ['absTime("2024-01-01T00:00:00Z") < absTime("2024-01-01T00:00:01Z")', "true"],
  ['relTime("1:00") > relTime("59")', "true"],
  ['relTime("1:00") == 60', "error"],
  ['absTime("2024-01-01T00:00:00Z") < relTime("1:00")', "error"],
  ['relTime("1:00") =?= relTime("60")', "true"],
  ['relTime("1:00") =?= 60', "false"],
  ['relTime("1:00") && true', "error"],
]);

cases("conversions (§4.3)", [
  ['int(absTime("1970-01-01T:00:00:01Z"))', "1"],
  ['int(relTime("01:00:01"))', "3601"],
  ["int(relTime(1.9))", "1"],
  ['real(absTime("1970-01-01T:00:00:01Z"))', "1.000000000000000E+00"],
  ['real(relTime("01:00:01"))', "3.601000000000000E+03"],
  ['string(absTime("2024-01-01T00:00:00Z"))', '"2024-01-01T00:00:00+00:00"'],
  ['string(relTime("1d2h3m4s"))', '"1+02:03:04"'],
  ['strcat("at ", absTime("2024-01-01T00:00:00Z"))', '"at 2024-01-01T00:00:00+00:00"'],
  ['bool(relTime("1"))', "true"],
  ["bool(relTime(0))", "false"],
  ['bool(absTime("2024-01-01T00:00:00Z"))', "error"],
  ['interval(relTime("1+00:00:01"))', '"1+00:00:01"'],
  ['isAbstime(absTime("2024-01-01"))', "true"],
  ['isAbstime(relTime("1"))', "false"],
  ['isReltime(relTime("1"))', "true"],
  ["isReltime(1)", "false"],
]);

cases("splitTime and the field accessors (§4)", [
  [
    'splitTime(absTime("1970-01-02T:03:04:05-06:00"))',
    '[ Type = "AbsoluteTime"; Year = 1970; Month = 1; Day = 2; Hours = 3; Minutes = 4; Seconds = 5; Offset = -21600 ]',
  ],
  [
    'splitTime(relTime("1d2h3m4.5s"))',
    '[ Type = "RelativeTime"; Days = 1; Hours = 2; Minutes = 3; Seconds = 4.500000000000000E+00 ]',
  ],
  [
    'splitTime(-relTime("1:01:01"))',
    '[ Type = "RelativeTime"; Days = 0; Hours = -1; Minutes = -1; Seconds = -1 ]',
  ],
  // An integer is epoch seconds in local time.
  [
    "splitTime(0)",
    '[ Type = "AbsoluteTime"; Year = 1969; Month = 12; Day = 31; Hours = 18; Minutes = 0; Seconds = 0; Offset = -21600 ]',
  ],
  ["splitTime([ a = 1 ])", "[ a = 1 ]"],
  ['splitTime("2024")', "error"],
  ["splitTime(undefined)", "error"],
  ['getYear(absTime("1997-08-30T16:04:05-0500"))', "1997"],
  ['getMonth(absTime("1997-08-30T16:04:05-0500"))', "8"],
  ['getDayOfMonth(absTime("1997-08-30T16:04:05-0500"))', "30"],
  ['getDayOfWeek(absTime("1997-08-30T16:04:05-0500"))', "6"],
  ['getDayOfYear(absTime("1997-01-01T00:00:00Z"))', "0"],
  ['getHours(absTime("1997-08-30T16:04:05-0500"))', "16"],
  ['getMinutes(absTime("1997-08-30T16:04:05-0500"))', "4"],
  ['getSeconds(absTime("1997-08-30T16:04:05-0500"))', "5"],
  ['getDays(absTime("1997-08-30T16:04:05-0500"))', "error"],
  ['getDays(relTime("2+03:04:05.5"))', "2"],
  ['getHours(relTime("2+03:04:05.5"))', "3"],
  ['getMinutes(relTime("2+03:04:05.5"))', "4"],
  ['getSeconds(relTime("2+03:04:05.5"))', "5"],
  ['getYear(relTime("1"))', "error"],
  ["getYear(undefined)", "undefined"],
  ["getYear(1)", "error"],
  ['inDays(relTime("1+12:00:00"))', "1.500000000000000E+00"],
  ['inHours(relTime("1:30:00"))', "1.500000000000000E+00"],
  ['inMinutes(relTime("90"))', "1.500000000000000E+00"],
  ["inSeconds(90)", "9.000000000000000E+01"],
  ['inSeconds(absTime("1970-01-01T00:01:00Z"))', "6.000000000000000E+01"],
  ['inHours("1")', "error"],
  ["inHours(undefined)", "undefined"],
]);

cases("formatTime with time values and local time (§4.4)", [
  ['formatTime(absTime("1997-08-30T16:04:05-0500"), "%m %d %Y %H %M %S")', '"08 30 1997 16 04 05"'],
  ['formatTime(absTime("1997-08-30T16:04:05-0500"), "%z %Z")', '"-0500 GMT"'],
  ['formatTime(absTime("1997-08-30T16:04:05-0500"))', '"Sat Aug 30 16:04:05 1997"'],
  [
    'formatTime(splitTime(absTime("1997-08-30T16:04:05-0500")), "%H:%M:%S %A")',
    '"16:04:05 Saturday"',
  ],
  // Integers are local time: the injected zone, six hours west.
  ['formatTime(0, "%Y-%m-%d %H:%M %z")', '"1969-12-31 18:00 -0600"'],
  ['formatTime(1174737600, "%m/%d/%y")', '"03/24/07"'],
  ['formatTime(relTime("1"))', "error"],
  ["formatTime([ Year = 1 ])", "error"],
]);

describe("time values print as text that reads back as the same value", () => {
  const texts = [
    'absTime("2024-02-29T23:59:59+14:00")',
    'absTime("1900-01-01T00:00:00-12:00")',
    'relTime("3+01:14:16.123")',
    'relTime("-1+00:00:00.5")',
    "relTime(0.00001)",
    "relTime(123456789.125)",
  ];
  for (const text of texts) {
    test(text, () => {
      const value = evaluate(text);
      const again = evaluate(unparseValue(value));
      assert.equal(unparseValue(again), unparseValue(value));
      assert.deepEqual(again, value);
    });
  }
});
