/**
 * Taking time values apart (SEMANTICS §4): `splitTime` into an ad of fields, the `getYear` ...
 * `getSeconds` accessors and the `inDays` ... `inSeconds` unit conversions, as HTCondor's
 * `splitTime`, `getField` and `inTimeUnits` do them.
 */
import { ClassAd, isAd } from "../classad.js";
import type { CalendarTime } from "../time-text.js";
import { AbsTime, ERROR, Real, RelTime, UNDEFINED, type Value } from "../value.js";
import type { Builtin, BuiltinTable } from "./builtin.js";
import { absTimeFields, localAbsTime } from "./time-zone.js";

/** A reltime's parts, each carrying the sign; the seconds keep any fraction. */
interface Duration {
  readonly days: number;
  readonly hours: number;
  readonly minutes: number;
  readonly seconds: number;
}

function durationOf(secs: number): Duration {
  const sign = secs < 0 ? -1 : 1;
  const abs = Math.abs(secs);
  const whole = Math.floor(abs);
  const part = (n: number) => (n === 0 ? 0 : sign * n);
  return {
    days: part(Math.floor(whole / 86400)),
    hours: part(Math.floor((whole % 86400) / 3600)),
    minutes: part(Math.floor((whole % 3600) / 60)),
    seconds: part((whole % 60) + (abs - whole)),
  };
}

/** Seconds as HTCondor puts them in a split ad: an integer unless there is a fraction. */
function secondsValue(s: number): Value {
  return Number.isInteger(s) ? s : new Real(s);
}

function absoluteAd(fields: CalendarTime, offset: number): ClassAd {
  return new ClassAd()
    .setValue("Type", "AbsoluteTime")
    .setValue("Year", fields.year)
    .setValue("Month", fields.month)
    .setValue("Day", fields.day)
    .setValue("Hours", fields.hours)
    .setValue("Minutes", fields.minutes)
    .setValue("Seconds", fields.seconds)
    .setValue("Offset", offset);
}

function relativeAd(d: Duration): ClassAd {
  return new ClassAd()
    .setValue("Type", "RelativeTime")
    .setValue("Days", d.days)
    .setValue("Hours", d.hours)
    .setValue("Minutes", d.minutes)
    .setValue("Seconds", secondsValue(d.seconds));
}

/**
 * `splitTime(t)`: an abstime (or integer epoch seconds, taken in local time) becomes
 * `[Type = "AbsoluteTime"; Year; Month; Day; Hours; Minutes; Seconds; Offset]` at its own zone; a
 * reltime `[Type = "RelativeTime"; Days; Hours; Minutes; Seconds]`; an ad (an earlier split) is
 * returned as it is. Anything else, UNDEFINED included, is ERROR, as in HTCondor.
 */
const splitTime: Builtin = (args, ctx) => {
  if (args.length !== 1) return ERROR;
  const t = args[0]!;
  if (isAd(t)) return t;
  if (t instanceof RelTime) return relativeAd(durationOf(t.secs));
  const abs = typeof t === "number" ? localAbsTime(ctx, t) : t;
  // `abs` is undefined for an integer beyond the calendar's range.
  if (!(abs instanceof AbsTime)) return ERROR;
  const fields = absTimeFields(abs);
  return fields === undefined ? ERROR : absoluteAd(fields, abs.offset);
};

/**
 * `getYear(t)` and friends: calendar fields of an abstime at its own zone (`getDayOfYear` is
 * 0-based and `getDayOfWeek` 0 for Sunday, C's `tm_yday`/`tm_wday`); `getDays`, `getHours`,
 * `getMinutes`, `getSeconds` of a reltime's whole seconds. A field the value does not have
 * (`getYear` of a reltime, `getDays` of an abstime) is ERROR, as are other types; UNDEFINED
 * stays UNDEFINED.
 */
function getField(absField: keyof CalendarTime | null, relField: keyof Duration | null): Builtin {
  return (args) => {
    if (args.length !== 1) return ERROR;
    const t = args[0]!;
    if (t === UNDEFINED) return UNDEFINED;
    if (t instanceof AbsTime && absField !== null) {
      const fields = absTimeFields(t);
      return fields === undefined ? ERROR : fields[absField];
    }
    if (t instanceof RelTime && relField !== null) {
      return Math.trunc(durationOf(Math.trunc(t.secs))[relField]);
    }
    return ERROR;
  };
}

/**
 * `inDays(t)`, `inHours`, `inMinutes`, `inSeconds`: a reltime, an abstime (its epoch seconds) or
 * a number of seconds, as a real count of that unit. UNDEFINED stays UNDEFINED; other types are
 * ERROR.
 */
function inUnits(unit: number): Builtin {
  return (args) => {
    if (args.length !== 1) return ERROR;
    const t = args[0]!;
    if (t === UNDEFINED) return UNDEFINED;
    let secs: number;
    if (t instanceof AbsTime || t instanceof RelTime) secs = t.secs;
    else if (typeof t === "number" || typeof t === "bigint") secs = Number(t);
    else if (t instanceof Real) secs = t.v;
    else return ERROR;
    return new Real(secs / unit);
  };
}

const FIELDS: readonly (readonly [string, keyof CalendarTime | null, keyof Duration | null])[] = [
  ["getyear", "year", null],
  ["getmonth", "month", null],
  ["getdayofmonth", "day", null],
  ["getdayofweek", "weekday", null],
  ["getdayofyear", "yearDay", null],
  ["getdays", null, "days"],
  ["gethours", "hours", "hours"],
  ["getminutes", "minutes", "minutes"],
  ["getseconds", "seconds", "seconds"],
];

export const TIME_FIELD_FUNCTIONS: BuiltinTable = {
  splittime: splitTime,
  ...Object.fromEntries(FIELDS.map(([name, abs, rel]) => [name, getField(abs, rel)])),
  indays: inUnits(86400),
  inhours: inUnits(3600),
  inminutes: inUnits(60),
  inseconds: inUnits(1),
};
