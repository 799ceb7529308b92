/** Time built-ins (SEMANTICS §4.4): `time()` and `interval(seconds)`. */
import { ERROR, type Value } from "../value.js";
import type { BuiltinTable, FnContext } from "./builtin.js";
import { isExceptional, toIntegerValue } from "./coerce.js";

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

export const TIME_FUNCTIONS: BuiltinTable = { time, interval };
