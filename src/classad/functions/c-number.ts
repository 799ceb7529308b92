/**
 * The number at the start of a string, read the way C's `strtod` reads it: leading white space,
 * an optional sign, then a decimal number, a hexadecimal number (`0x1A`, `0x1.8p3`), `inf`,
 * `infinity` or `nan`; whatever follows is ignored. HTCondor converts strings to numbers this way
 * (SEMANTICS §4.3: `int("12abc")` is 12, `int("0x1A")` is 26, `real("INF")` is infinity).
 */

export interface CNumber {
  readonly value: number;
  /** The text read, when it was a plain decimal integer (so it can be read exactly). */
  readonly integerText: string | undefined;
}

const DECIMAL_INTEGER = /^[+-]?\d+$/;

function isCSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13);
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function hexDigit(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  const lower = c | 32;
  if (lower >= 97 && lower <= 102) return lower - 87;
  return -1;
}

function startsWithWord(s: string, at: number, word: string): boolean {
  return s.slice(at, at + word.length).toLowerCase() === word;
}

/** Reads the number at the start of `s`, or returns undefined when there is none. */
export function parseCNumber(s: string): CNumber | undefined {
  let i = 0;
  while (i < s.length && isCSpace(s.charCodeAt(i))) i++;
  const start = i;
  let negative = false;
  if (s[i] === "+" || s[i] === "-") {
    negative = s[i] === "-";
    i++;
  }
  if (startsWithWord(s, i, "inf")) {
    return { value: negative ? -Infinity : Infinity, integerText: undefined };
  }
  if (startsWithWord(s, i, "nan")) return { value: NaN, integerText: undefined };

  if (s[i] === "0" && (s[i + 1] === "x" || s[i + 1] === "X")) {
    const hex = parseHexBody(s, i + 2);
    if (hex !== undefined) return { value: negative ? -hex : hex, integerText: undefined };
    // "0x" without hex digits: only the "0" is a number.
    return { value: negative ? -0 : 0, integerText: "0" };
  }

  let digits = 0;
  while (isDigit(s.charCodeAt(i))) {
    i++;
    digits++;
  }
  if (s[i] === ".") {
    i++;
    while (isDigit(s.charCodeAt(i))) {
      i++;
      digits++;
    }
  }
  if (digits === 0) return undefined;
  if (s[i] === "e" || s[i] === "E") {
    let j = i + 1;
    if (s[j] === "+" || s[j] === "-") j++;
    if (isDigit(s.charCodeAt(j))) {
      while (isDigit(s.charCodeAt(j))) j++;
      i = j;
    }
  }
  const text = s.slice(start, i);
  const value = Number(text.endsWith(".") ? text.slice(0, -1) : text);
  return { value, integerText: DECIMAL_INTEGER.test(text) ? text : undefined };
}

/** The value of hexadecimal digits, an optional fraction and an optional binary exponent. */
function parseHexBody(s: string, from: number): number | undefined {
  let i = from;
  let mantissa = 0;
  let digits = 0;
  let scale = 0;
  while (hexDigit(s.charCodeAt(i)) >= 0) {
    mantissa = mantissa * 16 + hexDigit(s.charCodeAt(i));
    i++;
    digits++;
  }
  if (s[i] === ".") {
    i++;
    while (hexDigit(s.charCodeAt(i)) >= 0) {
      mantissa = mantissa * 16 + hexDigit(s.charCodeAt(i));
      scale -= 4;
      i++;
      digits++;
    }
  }
  if (digits === 0) return undefined;
  if (s[i] === "p" || s[i] === "P") {
    let j = i + 1;
    let sign = 1;
    if (s[j] === "+" || s[j] === "-") {
      sign = s[j] === "-" ? -1 : 1;
      j++;
    }
    if (isDigit(s.charCodeAt(j))) {
      let exponent = 0;
      while (isDigit(s.charCodeAt(j))) {
        exponent = Math.min(exponent * 10 + (s.charCodeAt(j) - 48), 100000);
        j++;
      }
      scale += sign * exponent;
    }
  }
  return mantissa * Math.pow(2, scale);
}
