/**
 * Text forms of HTCondor's time values (SEMANTICS §2.3): `2024-01-01T00:00:00+00:00` for an
 * absolute time and `[-][d+]hh:mm:ss[.fff]` for a relative one, as its unparser writes them inside
 * `absTime("...")` / `relTime("...")`, and the readers `absTime(string)` / `relTime(string)` use.
 */
import { AbsTime } from "./value.js";

/** A broken-down calendar time, like C's `struct tm` (months 1-12, weekday 0 = Sunday). */
export interface CalendarTime {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly hours: number;
  readonly minutes: number;
  readonly seconds: number;
  readonly weekday: number;
  /** Days since 1 January, 0-based (C's `tm_yday`). */
  readonly yearDay: number;
}

/** Largest |seconds| a JS Date can hold (±100,000,000 days). */
const MAX_DATE_SECONDS = 8.64e12;

/**
 * Largest |epoch seconds| of an abstime: a day inside what a calendar can show, so that any zone
 * offset still gives a date. Makers and arithmetic answer ERROR beyond it.
 */
export const MAX_ABS_SECONDS = MAX_DATE_SECONDS - 86400;

/** An abstime, or undefined when `secs` is not a whole number within the calendar's range. */
export function makeAbsTime(secs: number, offset: number): AbsTime | undefined {
  return Number.isInteger(secs) && Math.abs(secs) <= MAX_ABS_SECONDS
    ? new AbsTime(secs, offset)
    : undefined;
}

/**
 * The calendar fields of `secs` seen at `offset` seconds east of UTC (what HTCondor gets from
 * `gmtime(secs + offset)`), or undefined beyond what a calendar can show.
 */
export function calendarOf(secs: number, offset: number): CalendarTime | undefined {
  const shifted = secs + offset;
  if (!Number.isFinite(shifted) || Math.abs(shifted) > MAX_DATE_SECONDS) return undefined;
  const d = new Date(Math.floor(shifted) * 1000);
  const startOfYear = Date.UTC(d.getUTCFullYear(), 0, 1);
  const startOfDay = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
  return {
    year: d.getUTCFullYear(),
    month: d.getUTCMonth() + 1,
    day: d.getUTCDate(),
    hours: d.getUTCHours(),
    minutes: d.getUTCMinutes(),
    seconds: d.getUTCSeconds(),
    weekday: d.getUTCDay(),
    yearDay: Math.round((startOfDay - startOfYear) / 86_400_000),
  };
}

/** Seconds since the epoch of a wall-clock time read as UTC (`timegm`); fields may overflow. */
export function utcSeconds(
  year: number,
  month: number,
  day: number,
  hours = 0,
  minutes = 0,
  seconds = 0,
): number {
  const d = new Date(0);
  // setUTCFullYear, unlike Date.UTC, does not read years 0-99 as 1900-1999.
  d.setUTCFullYear(year, month - 1, day);
  d.setUTCHours(hours, minutes, seconds, 0);
  return d.getTime() / 1000;
}

function two(n: number): string {
  return String(n).padStart(2, "0");
}

/** `+hh:mm` / `-hh:mm`; UTC is `+00:00`. */
function offsetText(offset: number): string {
  const sign = offset < 0 ? "-" : "+";
  const abs = Math.abs(offset);
  return `${sign}${two(Math.floor(abs / 3600))}:${two(Math.floor(abs / 60) % 60)}`;
}

/** `2024-01-01T00:00:00+00:00`: the local time at the value's own offset, then the offset. */
export function absTimeText(t: AbsTime): string {
  const c = calendarOf(t.secs, t.offset);
  if (c === undefined) return `${t.secs}`;
  const year =
    c.year < 0 ? `-${String(-c.year).padStart(4, "0")}` : String(c.year).padStart(4, "0");
  return (
    `${year}-${two(c.month)}-${two(c.day)}` +
    `T${two(c.hours)}:${two(c.minutes)}:${two(c.seconds)}${offsetText(t.offset)}`
  );
}

/** C's `%g`: six significant digits, trailing zeros dropped. */
function formatG(x: number): string {
  const exponent = x === 0 ? 0 : Math.floor(Math.log10(Math.abs(x)));
  if (exponent < -4 || exponent >= 6) {
    const [mantissa, e] = x.toExponential(5).split("e") as [string, string];
    const digits = String(Math.abs(Number(e))).padStart(2, "0");
    return `${mantissa.replace(/\.?0+$/, "")}e${Number(e) < 0 ? "-" : "+"}${digits}`;
  }
  return String(Number(x.toPrecision(6)));
}

/**
 * `[-][d+]hh:mm:ss`, leaving out leading zero units as HTCondor's `relTimeToString` does:
 * `1+02:03:04`, `02:03:04`, `03:04`, `04`. A fraction of a second is written with `%g`
 * (`03:4.5`), which the reader takes back.
 */
export function relTimeText(secs: number): string {
  if (!Number.isFinite(secs)) return String(secs);
  const sign = secs < 0 ? "-" : "";
  const abs = Math.abs(secs);
  const whole = Math.floor(abs);
  const fraction = abs - whole;
  const days = Math.floor(whole / 86400);
  const hours = Math.floor((whole % 86400) / 3600);
  const minutes = Math.floor((whole % 3600) / 60);
  const s = whole % 60;
  const secondsText = fraction === 0 ? two(s) : formatG(s + fraction);
  if (days !== 0) return `${sign}${days}+${two(hours)}:${two(minutes)}:${secondsText}`;
  if (hours !== 0) return `${sign}${two(hours)}:${two(minutes)}:${secondsText}`;
  if (minutes !== 0) return `${sign}${two(minutes)}:${secondsText}`;
  return `${sign}${secondsText}`;
}

/** The text forms `absTime(string)` reads (see `parseAbsTime`). */
const ABS_TIME =
  /^\s*(\d{4})-?(\d{2})-?(\d{2})(?:[Tt]:?(\d{2})(?::?(\d{2})(?::?(\d{2}))?)?)?\s*(?:([Zz])|([+-])(\d{2})(?::?(\d{2}))?)?\s*$/;

/**
 * `YYYY-MM-DD[THH[:MM[:SS]]][Z|±HH[:MM]]`, separators optional (`19970830T160405-0500`) and a
 * stray colon after the `T` tolerated, as HTCondor's reader and its tests have it
 * (`1970-01-01T:00:00:01Z`). Without a zone the time is local: `localOffset` gives the offset in
 * force at a given epoch second.
 */
export function parseAbsTime(
  text: string,
  localOffset: (secs: number) => number,
): AbsTime | undefined {
  const m = ABS_TIME.exec(text);
  if (m === null) return undefined;
  const [year, month, day, hours, minutes, seconds] = [1, 2, 3, 4, 5, 6].map((i) =>
    Number(m[i] ?? 0),
  ) as [number, number, number, number, number, number];
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  if (hours > 23 || minutes > 59 || seconds > 60) return undefined;
  const wall = utcSeconds(year, month, day, hours, minutes, seconds);
  if (m[7] !== undefined) return new AbsTime(wall, 0);
  if (m[8] !== undefined) {
    const zoneHours = Number(m[9]);
    const zoneMinutes = Number(m[10] ?? 0);
    if (zoneHours > 23 || zoneMinutes > 59) return undefined;
    const offset = (m[8] === "-" ? -1 : 1) * (zoneHours * 3600 + zoneMinutes * 60);
    return new AbsTime(wall - offset, offset);
  }
  // Local time: the offset at the wall time, corrected once for a zone change in between.
  let offset = localOffset(wall);
  offset = localOffset(wall - offset);
  return new AbsTime(wall - offset, offset);
}

const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function daysInMonth(year: number, month: number): number {
  return month === 2 && isLeap(year) ? 29 : MONTH_DAYS[month - 1]!;
}

function isLeap(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

/** The unit markers of a relative time, from seconds up; `:` and `+` are the colon form's. */
const REL_UNITS: readonly (readonly [markers: string, seconds: number])[] = [
  ["mM:", 60],
  ["hH:", 3600],
  ["dD+", 86400],
];

/**
 * `[-][D(d|+)][H(h|:)][M(m|:)][S[.fff][s]]`, read from the right as HTCondor does, so `03:04` is
 * minutes and seconds: `01:00:01`, `2+25:14:16.123` (fields may overflow their unit),
 * `1d2h3m4.5s`, `90`. Returns seconds, or undefined when something does not fit.
 */
export function parseRelTime(text: string): number | undefined {
  const tokens = text.match(/(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?|\S/g) ?? [];
  if (tokens.length === 0) return undefined;
  const isNumber = (t: string | undefined): t is string => t !== undefined && /^[\d.]/.test(t);
  let i = tokens.length - 1;
  let seconds = 0;
  if (tokens[i] === "s" || tokens[i] === "S") {
    i--;
    if (!isNumber(tokens[i])) return undefined;
  }
  if (isNumber(tokens[i])) seconds = Number(tokens[i--]);
  let whole = 0;
  for (const [markers, unit] of REL_UNITS) {
    const marker = tokens[i];
    if (marker === undefined || marker.length !== 1 || !markers.includes(marker)) continue;
    const n = tokens[i - 1];
    if (!isNumber(n) || !/^\d+$/.test(n)) return undefined;
    whole += Number(n) * unit;
    i -= 2;
  }
  const negative = tokens[i] === "-";
  if (negative) i--;
  if (i >= 0 || Number.isNaN(seconds)) return undefined;
  // Whole units first, then the seconds, so that printing and reading back gives the same double.
  const secs = whole + seconds;
  return negative ? -secs : secs;
}
