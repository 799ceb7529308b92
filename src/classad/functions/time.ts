/** Time built-ins (SEMANTICS §4.4): `time()`, `interval(seconds)`, `formatTime(t, format)`. */
import { ERROR, Real, type Value } from "../value.js";
import type { BuiltinTable, FnContext } from "./builtin.js";
import { isExceptional, toIntegerValue } from "./coerce.js";
import { strftime } from "./strftime.js";

/** `time()`: whole seconds since the epoch; any argument is ERROR. */
function time(args: readonly Value[], ctx: FnContext): Value {
  return args.length === 0 ? Math.floor(ctx.now()) : ERROR;
}

function twoDigits(n: number): string {
  return String(Math.abs(n)).padStart(2, "0");
}

/**
 * `interval(seconds)` as `d+hh:mm:ss`, `h:mm:ss`, `m:ss` or `s`, leaving out leading zero units
 * (hours are padded after a day count: `"17+01:02:03"`, not the docs' `"17+1:02:03"`, §7). The
 * argument goes through `int()`; failure, UNDEFINED included, is ERROR. A negative interval
 * carries its sign on the leading unit, as HTCondor's C division gives it.
 */
function interval(args: readonly Value[]): Value {
  if (args.length !== 1) return ERROR;
  const converted = toIntegerValue(args[0]!);
  if (isExceptional(converted)) return ERROR;
  const total = Number(converted);
  const days = Math.trunc(total / 86400);
  const hours = Math.trunc((total % 86400) / 3600);
  const minutes = Math.trunc((total % 3600) / 60);
  const seconds = total % 60;
  if (days !== 0) return `${days}+${twoDigits(hours)}:${twoDigits(minutes)}:${twoDigits(seconds)}`;
  if (hours !== 0) return `${hours}:${twoDigits(minutes)}:${twoDigits(seconds)}`;
  if (minutes !== 0) return `${minutes}:${twoDigits(seconds)}`;
  return `${seconds === 0 ? 0 : seconds}`;
}

/** Whole seconds from an integer or real time, or undefined for anything else. */
function epochSeconds(t: Value): number | undefined {
  if (typeof t === "number") return t;
  if (typeof t === "bigint") return Number(t);
  if (t instanceof Real && Number.isFinite(t.v)) return Math.trunc(t.v);
  return undefined;
}

/**
 * `formatTime([t [, format]])`: the time `t` (default now) in local time, through C's `strftime`
 * (default format `%c`). A time that is not a number (UNDEFINED included) or a format that is not
 * a string is ERROR (§4.4). Updraft has no absolute-time values, so those arguments do not arise.
 */
function formatTime(args: readonly Value[], ctx: FnContext): Value {
  if (args.length > 2) return ERROR;
  const seconds = args.length === 0 ? Math.floor(ctx.now()) : epochSeconds(args[0]!);
  const format = args.length === 2 ? args[1]! : "%c";
  if (seconds === undefined || typeof format !== "string") return ERROR;
  const date = new Date(seconds * 1000);
  return Number.isNaN(date.getTime()) ? ERROR : strftime(format, date);
}

export const TIME_FUNCTIONS: BuiltinTable = { time, interval, formattime: formatTime };
