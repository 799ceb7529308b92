/**
 * The character codes and ASCII character classes of ClassAd text, for the lexer and the ad
 * scanner. Both are `const enum`s: the compiler writes every use as its number, so a `switch` over
 * them compiles as one over literals in each reader. (An imported `const` binding is not folded
 * so by the engine, and cost the scanner half its speed when the tables were shared that way.)
 */

export const enum Ch {
  Nul = 0,
  Tab = 9,
  Lf = 10,
  Cr = 13,
  Space = 32,
  Bang = 33,
  DQuote = 34,
  Percent = 37,
  Amp = 38,
  SQuote = 39,
  LParen = 40,
  RParen = 41,
  Star = 42,
  Plus = 43,
  Comma = 44,
  Minus = 45,
  Dot = 46,
  Slash = 47,
  Zero = 48,
  Seven = 55,
  Nine = 57,
  Colon = 58,
  Semi = 59,
  Lt = 60,
  Eq = 61,
  Gt = 62,
  Question = 63,
  UpperE = 69,
  LBracket = 91,
  Backslash = 92,
  RBracket = 93,
  Caret = 94,
  Underscore = 95,
  LowerE = 101,
  LBrace = 123,
  Pipe = 124,
  RBrace = 125,
  Tilde = 126,
}

/** Bits of a character's class in `CHAR_CLASS`. */
export const enum Cls {
  Digit = 1,
  NameStart = 2,
  NameChar = 4,
  /** C's isspace. */
  Space = 8,
}

/**
 * The class bits of each byte; 0 for NUL and for everything outside ASCII. A reader keeps it in
 * a module-local `const` of its own.
 */
export function charClasses(): Uint8Array {
  const table = new Uint8Array(256);
  for (let c = 0; c < 128; c++) {
    const digit = c >= Ch.Zero && c <= Ch.Nine;
    const alpha = (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === Ch.Underscore;
    table[c] =
      (digit ? Cls.Digit | Cls.NameChar : 0) |
      (alpha ? Cls.NameStart | Cls.NameChar : 0) |
      (c === Ch.Space || (c >= Ch.Tab && c <= Ch.Cr) ? Cls.Space : 0);
  }
  return table;
}
