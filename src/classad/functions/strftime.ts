/**
 * C's `strftime` in the "C" locale, for `formatTime` (SEMANTICS §4.4), on a time already broken
 * down at a known offset (the caller picks local time or an abstime's own zone, so nothing here
 * reads the process's time zone). Conversions this does not know are copied through unchanged.
 */
import type { CalendarTime } from "../time-text.js";

/** A broken-down time with the zone it was broken down in. */
export interface ZonedTime extends CalendarTime {
  /** Seconds since the epoch (`%s`). */
  readonly epoch: number;
  /** Seconds east of UTC (`%z`). */
  readonly offset: number;
  /** Zone abbreviation (`%Z`). */
  readonly zone: string;
}

const DAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
const MONTHS = [
  "January",
  "February",
  "March",
  "April",
  "May",
  "June",
  "July",
  "August",
  "September",
  "October",
  "November",
  "December",
];

function pad(n: number, width: number, fill = "0"): string {
  const sign = n < 0 ? "-" : "";
  return sign + String(Math.abs(n)).padStart(width, fill);
}

/** Week of the year with weeks starting on `firstDay` (0 Sunday, 1 Monday), as %U and %W count. */
function weekOfYear(d: ZonedTime, firstDay: number): number {
  const weekday = (d.weekday + 7 - firstDay) % 7;
  return Math.floor((d.yearDay + 7 - weekday) / 7);
}

/** `+hhmm` / `-hhmm` east of UTC. */
function utcOffset(d: ZonedTime): string {
  const sign = d.offset < 0 ? "-" : "+";
  const minutes = Math.floor(Math.abs(d.offset) / 60);
  return `${sign}${pad(Math.floor(minutes / 60), 2)}${pad(minutes % 60, 2)}`;
}

function conversion(letter: string, d: ZonedTime): string | undefined {
  const hour12 = d.hours % 12 === 0 ? 12 : d.hours % 12;
  switch (letter) {
    case "a":
      return DAYS[d.weekday]!.slice(0, 3);
    case "A":
      return DAYS[d.weekday];
    case "b":
    case "h":
      return MONTHS[d.month - 1]!.slice(0, 3);
    case "B":
      return MONTHS[d.month - 1];
    case "c":
      return strftime("%a %b %e %H:%M:%S %Y", d);
    case "C":
      return pad(Math.floor(d.year / 100), 2);
    case "d":
      return pad(d.day, 2);
    case "D":
    case "x":
      return strftime("%m/%d/%y", d);
    case "e":
      return pad(d.day, 2, " ");
    case "F":
      return strftime("%Y-%m-%d", d);
    case "H":
      return pad(d.hours, 2);
    case "I":
      return pad(hour12, 2);
    case "j":
      return pad(d.yearDay + 1, 3);
    case "k":
      return pad(d.hours, 2, " ");
    case "l":
      return pad(hour12, 2, " ");
    case "m":
      return pad(d.month, 2);
    case "M":
      return pad(d.minutes, 2);
    case "n":
      return "\n";
    case "p":
      return d.hours < 12 ? "AM" : "PM";
    case "r":
      return strftime("%I:%M:%S %p", d);
    case "R":
      return strftime("%H:%M", d);
    case "s":
      return String(d.epoch);
    case "S":
      return pad(d.seconds, 2);
    case "t":
      return "\t";
    case "T":
    case "X":
      return strftime("%H:%M:%S", d);
    case "u":
      return String(d.weekday === 0 ? 7 : d.weekday);
    case "U":
      return pad(weekOfYear(d, 0), 2);
    case "w":
      return String(d.weekday);
    case "W":
      return pad(weekOfYear(d, 1), 2);
    case "y":
      return pad(d.year % 100, 2);
    case "Y":
      return String(d.year);
    case "z":
      return utcOffset(d);
    case "Z":
      return d.zone;
    case "%":
      return "%";
    default:
      return undefined;
  }
}

export function strftime(format: string, d: ZonedTime): string {
  let out = "";
  for (let i = 0; i < format.length; i++) {
    const c = format[i]!;
    if (c !== "%" || i + 1 >= format.length) {
      out += c;
      continue;
    }
    const letter = format[i + 1]!;
    const text = conversion(letter, d);
    out += text ?? c + letter;
    i++;
  }
  return out;
}
