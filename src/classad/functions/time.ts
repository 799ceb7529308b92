/**
 * Time built-ins (SEMANTICS §4, §4.4): `time`, `interval`, `formatTime`, the time-value makers
 * `absTime` and `relTime`, and `currentTime`, `timeZoneOffset`, `dayTime`. Local time is the
 * context's zone (`FnContext.utcOffset`), so results do not depend on the machine's.
 */
import { isAd } from "../classad.js";
import { makeAbsTime, parseAbsTime, parseRelTime, utcSeconds } from "../time-text.js";
import {
  AbsTime,
  type ClassAdLike,
  ERROR,
  Real,
  RelTime,
  UNDEFINED,
  type Value,
} from "../value.js";
import { type BuiltinTable, type FnContext, localOffset } from "./builtin.js";
import { isExceptional, toIntegerValue } from "./coerce.js";
import { type ZonedTime, strftime } from "./strftime.js";
import { absTimeFields, localAbsTime, localTime } from "./time-zone.js";

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
 * argument goes through `int()` (a reltime gives its whole seconds); failure, UNDEFINED included,
 * is ERROR. A negative interval carries its sign on the leading unit, as HTCondor's C division
 * gives it.
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

/** Whole seconds from an integer or real, or undefined for anything else. */
function epochSeconds(t: Value): number | undefined {
  if (typeof t === "number") return t;
  if (typeof t === "bigint") return Number(t);
  if (t instanceof Real && Number.isFinite(t.v)) return Math.trunc(t.v);
  return undefined;
}

/** An integer attribute of a split-time ad, or undefined. */
function intField(ad: ClassAdLike, name: string): number | undefined {
  if (!isAd(ad)) return undefined;
  const v = ad.evaluate(name);
  return typeof v === "number" ? v : v instanceof Real ? Math.trunc(v.v) : undefined;
}

/**
 * The time a `splitTime` ad describes (Year, Month, Day, Hours, Minutes, Seconds), normalised as
 * C's `mktime` would: HTCondor formats such an ad as the wall-clock time it names.
 */
function fromSplitAd(ad: ClassAdLike): ZonedTime | undefined {
  const fields = ["Year", "Month", "Day", "Hours", "Minutes", "Seconds"].map((n) =>
    intField(ad, n),
  );
  if (fields.some((f) => f === undefined)) return undefined;
  const [year, month, day, hours, minutes, seconds] = fields as number[];
  const wall = utcSeconds(year!, month!, day!, hours!, minutes!, seconds!);
  if (!Number.isFinite(wall)) return undefined;
  const offset = intField(ad, "Offset") ?? 0;
  return absTimeFields(new AbsTime(wall - offset, offset));
}

/**
 * `formatTime([t [, format]])`: `t` (default now) through C's `strftime` (default format `%c`).
 * An integer (or real) is shown in local time, an abstime at its own zone, a `splitTime` ad as
 * the wall-clock time it names. Anything else (UNDEFINED included), or a format that is not a
 * string, is ERROR (§4.4).
 */
function formatTime(args: readonly Value[], ctx: FnContext): Value {
  if (args.length > 2) return ERROR;
  const format = args.length === 2 ? args[1]! : "%c";
  if (typeof format !== "string") return ERROR;
  let when: ZonedTime | undefined;
  if (args.length === 0) when = localTime(ctx, Math.floor(ctx.now()));
  else {
    const t = args[0]!;
    if (t instanceof AbsTime) when = absTimeFields(t);
    else if (isAd(t)) when = fromSplitAd(t);
    else {
      const seconds = epochSeconds(t);
      when = seconds === undefined ? undefined : localTime(ctx, seconds);
    }
  }
  return when === undefined ? ERROR : strftime(format, when);
}

/**
 * The zone offset argument of `absTime(t, offset)`: an integer, real or reltime, in seconds,
 * less than a day either way.
 */
function offsetArgument(v: Value): number | undefined {
  const secs = v instanceof RelTime ? Math.trunc(v.secs) : epochSeconds(v);
  return secs !== undefined && Math.abs(secs) < 86400 ? secs : undefined;
}

/**
 * `absTime()` is now; `absTime(t [, offset])` makes an abstime from a string
 * (`"2024-01-01T00:00:00+00:00"`, a missing zone meaning local time), epoch seconds (integer or
 * real, fraction dropped) or a reltime (seconds since the epoch), in the zone `offset` seconds
 * east of UTC (default local). An abstime is returned as it is. UNDEFINED is UNDEFINED; other
 * types, an unreadable string or a bad offset are ERROR.
 */
function absTime(args: readonly Value[], ctx: FnContext): Value {
  if (args.length === 0) return localAbsTime(ctx, Math.floor(ctx.now())) ?? ERROR;
  if (args.length > 2) return ERROR;
  const offset = args.length === 2 ? offsetArgument(args[1]!) : undefined;
  if (args.length === 2 && offset === undefined) return ERROR;
  const t = args[0]!;
  if (t === UNDEFINED) return UNDEFINED;
  if (t instanceof AbsTime) return t;
  let secs: number | undefined;
  if (typeof t === "string") {
    const parsed = parseAbsTime(t, (s) => localOffset(ctx, s));
    if (parsed === undefined) return ERROR;
    if (offset === undefined) return parsed;
    secs = parsed.secs;
  } else if (t instanceof RelTime) secs = Math.trunc(t.secs);
  else secs = epochSeconds(t);
  if (secs === undefined) return ERROR;
  const made = offset === undefined ? localAbsTime(ctx, secs) : makeAbsTime(secs, offset);
  return made ?? ERROR;
}

/**
 * `relTime(t)`: a reltime from a string (`"1+02:03:04"`, `"1d2h3m4.5s"`), a number of seconds
 * (a real keeps its fraction) or an abstime (its epoch seconds). UNDEFINED is UNDEFINED; other
 * types or an unreadable string are ERROR.
 */
function relTime(args: readonly Value[]): Value {
  if (args.length !== 1) return ERROR;
  const t = args[0]!;
  if (t === UNDEFINED) return UNDEFINED;
  if (t instanceof RelTime) return t;
  if (t instanceof AbsTime) return new RelTime(t.secs);
  if (typeof t === "string") {
    const secs = parseRelTime(t);
    return secs === undefined ? ERROR : new RelTime(secs);
  }
  if (t instanceof Real) return Number.isFinite(t.v) ? new RelTime(t.v) : ERROR;
  const secs = epochSeconds(t);
  return secs === undefined ? ERROR : new RelTime(secs);
}

/** `currentTime()`: now as an abstime in the local zone. */
function currentTime(args: readonly Value[], ctx: FnContext): Value {
  return (args.length === 0 ? localAbsTime(ctx, Math.floor(ctx.now())) : undefined) ?? ERROR;
}

/** `timeZoneOffset()`: the local zone's offset from UTC now, as a reltime. */
function timeZoneOffset(args: readonly Value[], ctx: FnContext): Value {
  return args.length === 0 ? new RelTime(localOffset(ctx, Math.floor(ctx.now()))) : ERROR;
}

/** `dayTime()`: the time since local midnight, as a reltime. */
function dayTime(args: readonly Value[], ctx: FnContext): Value {
  if (args.length !== 0) return ERROR;
  const now = localTime(ctx, Math.floor(ctx.now()));
  return now === undefined ? ERROR : new RelTime(now.hours * 3600 + now.minutes * 60 + now.seconds);
}

export const TIME_FUNCTIONS: BuiltinTable = {
  time,
  interval,
  formattime: formatTime,
  abstime: absTime,
  reltime: relTime,
  currenttime: currentTime,
  timezoneoffset: timeZoneOffset,
  daytime: dayTime,
};
