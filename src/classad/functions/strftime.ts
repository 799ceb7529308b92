/**
 * C's `strftime` in the "C" locale, for `formatTime` (SEMANTICS §4.4). Times are broken down in
 * the process's local time zone, as HTCondor does with `localtime`. Conversions this does not know
 * are copied through unchanged.
 */

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

/** Days since 1 January (0-based), counted on calendar dates so DST shifts do not matter. */
function dayOfYear(d: Date): number {
  const day = Date.UTC(d.getFullYear(), d.getMonth(), d.getDate());
  return Math.round((day - Date.UTC(d.getFullYear(), 0, 1)) / 86_400_000);
}

/** Week of the year with weeks starting on `firstDay` (0 Sunday, 1 Monday), as %U and %W count. */
function weekOfYear(d: Date, firstDay: number): number {
  const weekday = (d.getDay() + 7 - firstDay) % 7;
  return Math.floor((dayOfYear(d) + 7 - weekday) / 7);
}

/** `+hhmm` / `-hhmm` east of UTC. */
function utcOffset(d: Date): string {
  const east = -d.getTimezoneOffset();
  const sign = east < 0 ? "-" : "+";
  const minutes = Math.abs(east);
  return `${sign}${pad(Math.floor(minutes / 60), 2)}${pad(minutes % 60, 2)}`;
}

function zoneName(d: Date): string {
  const part = new Intl.DateTimeFormat("en-US", { timeZoneName: "short" })
    .formatToParts(d)
    .find((p) => p.type === "timeZoneName");
  return part?.value ?? "";
}

function conversion(letter: string, d: Date): string | undefined {
  const hour12 = d.getHours() % 12 === 0 ? 12 : d.getHours() % 12;
  switch (letter) {
    case "a":
      return DAYS[d.getDay()]!.slice(0, 3);
    case "A":
      return DAYS[d.getDay()];
    case "b":
    case "h":
      return MONTHS[d.getMonth()]!.slice(0, 3);
    case "B":
      return MONTHS[d.getMonth()];
    case "c":
      return strftime("%a %b %e %H:%M:%S %Y", d);
    case "C":
      return pad(Math.floor(d.getFullYear() / 100), 2);
    case "d":
      return pad(d.getDate(), 2);
    case "D":
    case "x":
      return strftime("%m/%d/%y", d);
    case "e":
      return pad(d.getDate(), 2, " ");
    case "F":
      return strftime("%Y-%m-%d", d);
    case "H":
      return pad(d.getHours(), 2);
    case "I":
      return pad(hour12, 2);
    case "j":
      return pad(dayOfYear(d) + 1, 3);
    case "k":
      return pad(d.getHours(), 2, " ");
    case "l":
      return pad(hour12, 2, " ");
    case "m":
      return pad(d.getMonth() + 1, 2);
    case "M":
      return pad(d.getMinutes(), 2);
    case "n":
      return "\n";
    case "p":
      return d.getHours() < 12 ? "AM" : "PM";
    case "r":
      return strftime("%I:%M:%S %p", d);
    case "R":
      return strftime("%H:%M", d);
    case "s":
      return String(Math.floor(d.getTime() / 1000));
    case "S":
      return pad(d.getSeconds(), 2);
    case "t":
      return "\t";
    case "T":
    case "X":
      return strftime("%H:%M:%S", d);
    case "u":
      return String(d.getDay() === 0 ? 7 : d.getDay());
    case "U":
      return pad(weekOfYear(d, 0), 2);
    case "w":
      return String(d.getDay());
    case "W":
      return pad(weekOfYear(d, 1), 2);
    case "y":
      return pad(d.getFullYear() % 100, 2);
    case "Y":
      return String(d.getFullYear());
    case "z":
      return utcOffset(d);
    case "Z":
      return zoneName(d);
    case "%":
      return "%";
    default:
      return undefined;
  }
}

export function strftime(format: string, d: Date): string {
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
