/**
 * Tokens of ClassAd text read from its bytes, as far as the ad scanner's grammar (scan-grammar.ts)
 * tells them apart: kinds and positions only, no values. Each check is the lexer's (lexer.ts), so
 * that nothing read here is a token the lexer would refuse.
 */
import { Ch, Cls, charClasses } from "./chars.js";

/** Character classes of bytes (a module-local table: see chars.ts). */
const CLASS = charClasses();
function is(c: number, cls: number): boolean {
  return (CLASS[c]! & cls) !== 0;
}

/** Token kinds as far as the grammar tells them apart. */
export const enum K {
  End,
  Bad,
  Literal,
  Name,
  QuotedName,
  /** `-` or `+`: unary before an operand, binary after one. */
  Sign,
  /** `!` or `~` */
  Unary,
  /** Every other binary operator, `is` and `isnt` included. */
  Binary,
  Dot,
  Question,
  Elvis,
  Colon,
  Semicolon,
  Comma,
  Assign,
  LBracket,
  RBracket,
  LParen,
  RParen,
  LBrace,
  RBrace,
}

/** What a name is as a keyword (§1.6). */
export const enum Keyword {
  None,
  /** true, false, undefined, error */
  Literal,
  /** is, isnt */
  Operator,
}

/** Name characters at `p` spell `word` (lower case) in any case. */
function lowerEquals(b: Uint8Array, p: number, len: number, word: string): boolean {
  if (len !== word.length) return false;
  // Name characters are letters, digits and `_`; setting 0x20 folds only the letters onto
  // lower case, and no digit or `_` lands on a letter.
  for (let i = 0; i < len; i++) if ((b[p + i]! | 0x20) !== word.charCodeAt(i)) return false;
  return true;
}

/**
 * Reads tokens of ASCII text from its bytes. The text ends at `end`, and a NUL after it stops any
 * loop over a character class.
 */
export class ByteTokens {
  /** The text. */
  protected s = "";
  /** Its characters, one byte each, and a NUL after them. */
  protected b: Uint8Array = new Uint8Array(1);
  protected end = 0;
  /** Offset just past the last token read. */
  protected pos = 0;
  /** Offset of the last token read. */
  protected start = 0;

  /** Which keyword (§1.6: case-insensitive) the name at [p, q) is, if any. */
  protected keyword(p: number, q: number): Keyword {
    const b = this.b;
    const len = q - p;
    if (len !== 2 && len !== 4 && len !== 5 && len !== 9) return Keyword.None;
    switch (b[p]! | 0x20) {
      case 0x74: // t
        return lowerEquals(b, p, len, "true") ? Keyword.Literal : Keyword.None;
      case 0x66: // f
        return lowerEquals(b, p, len, "false") ? Keyword.Literal : Keyword.None;
      case 0x75: // u
        return lowerEquals(b, p, len, "undefined") ? Keyword.Literal : Keyword.None;
      case 0x65: // e
        return lowerEquals(b, p, len, "error") ? Keyword.Literal : Keyword.None;
      case 0x69: // i
        return lowerEquals(b, p, len, "is") || lowerEquals(b, p, len, "isnt")
          ? Keyword.Operator
          : Keyword.None;
      default:
        return Keyword.None;
    }
  }

  /** Skip whitespace and comments from `p` as the lexer does; -1 for an unterminated comment. */
  protected blank(p: number): number {
    const b = this.b;
    const end = this.end;
    for (;;) {
      while (is(b[p]!, Cls.Space)) p++;
      if (p + 1 < end && b[p]! === Ch.Slash) {
        const c2 = b[p + 1];
        if (c2 === Ch.Slash) {
          p += 2;
          while (p < end && b[p]! !== Ch.Lf) p++;
          continue;
        }
        if (c2 === Ch.Star) {
          const close = this.s.indexOf("*/", p + 2);
          if (close < 0) return -1;
          p = close + 2;
          continue;
        }
      }
      return p;
    }
  }

  /**
   * Read the token after `pos`: its kind, with `start` and `pos` around it. `afterOperand` tells
   * a minus sign from a negative number, as the lexer does (§1.4).
   */
  protected token(afterOperand: boolean): K {
    const b = this.b;
    const end = this.end;
    const p = this.blank(this.pos);
    if (p < 0) return K.Bad;
    this.start = p;
    if (p >= end) {
      this.pos = p;
      return K.End;
    }
    const c = b[p]!;
    if (is(c, Cls.NameStart)) {
      let q = p + 1;
      while (is(b[q]!, Cls.NameChar)) q++;
      this.pos = q;
      const kw = this.keyword(p, q);
      return kw === Keyword.None ? K.Name : kw === Keyword.Literal ? K.Literal : K.Binary;
    }
    if (is(c, Cls.Digit)) return this.number(p);
    const c1 = p + 1 < end ? b[p + 1] : 0;
    this.pos = p + 1;
    switch (c) {
      case Ch.DQuote:
        return this.string(p);
      case Ch.SQuote:
        return this.quotedName(p);
      case Ch.Dot:
        return is(c1, Cls.Digit) ? this.number(p) : K.Dot;
      case Ch.Minus:
        if (
          !afterOperand &&
          (is(c1, Cls.Digit) || (c1 === Ch.Dot && p + 2 < end && is(b[p + 2]!, Cls.Digit)))
        ) {
          return this.number(p);
        }
        return K.Sign;
      case Ch.Plus:
        return K.Sign;
      case Ch.Bang:
        if (c1 === Ch.Eq) this.pos = p + 2;
        return c1 === Ch.Eq ? K.Binary : K.Unary;
      case Ch.Tilde:
        return K.Unary;
      case Ch.Star:
      case Ch.Slash:
      case Ch.Percent:
      case Ch.Caret:
        return K.Binary;
      case Ch.Amp:
        if (c1 === Ch.Amp) this.pos = p + 2;
        return K.Binary;
      case Ch.Pipe:
        if (c1 === Ch.Pipe) this.pos = p + 2;
        return K.Binary;
      case Ch.Lt:
        if (c1 === Ch.Eq || c1 === Ch.Lt) this.pos = p + 2;
        return K.Binary;
      case Ch.Gt:
        if (c1 === Ch.Eq) this.pos = p + 2;
        else if (c1 === Ch.Gt) this.pos = p + 2 < end && b[p + 2]! === Ch.Gt ? p + 3 : p + 2;
        return K.Binary;
      case Ch.Eq: {
        if (c1 === Ch.Eq) {
          this.pos = p + 2;
          return K.Binary;
        }
        const c2 = p + 2 < end ? b[p + 2]! : 0;
        if ((c1 === Ch.Question || c1 === Ch.Bang) && c2 === Ch.Eq) {
          this.pos = p + 3;
          return K.Binary;
        }
        return K.Assign;
      }
      case Ch.Question: {
        // `?` then optional whitespace then `:` is one elvis token (§1.8).
        let q = p + 1;
        while (is(b[q]!, Cls.Space)) q++;
        if (q < end && b[q]! === Ch.Colon) {
          this.pos = q + 1;
          return K.Elvis;
        }
        return K.Question;
      }
      case Ch.Colon:
        return K.Colon;
      case Ch.Semi:
        return K.Semicolon;
      case Ch.Comma:
        return K.Comma;
      case Ch.LBracket:
        return K.LBracket;
      case Ch.RBracket:
        return K.RBracket;
      case Ch.LParen:
        return K.LParen;
      case Ch.RParen:
        return K.RParen;
      case Ch.LBrace:
        return K.LBrace;
      case Ch.RBrace:
        return K.RBrace;
      default:
        return K.Bad;
    }
  }

  /** A number literal at `p` (after an optional minus), checked as the lexer checks it (§1.2, §1.3). */
  protected number(p: number): K {
    const b = this.b;
    const end = this.end;
    let q = p;
    if (b[q]! === Ch.Minus) q++;
    while (is(b[q]!, Cls.Digit)) q++;
    let isReal = false;
    if (q < end && b[q]! === Ch.Dot) {
      if (!(q + 1 < end && is(b[q + 1]!, Cls.Digit))) return K.Bad;
      q++;
      while (is(b[q]!, Cls.Digit)) q++;
      isReal = true;
    }
    const e = q < end ? b[q]! : 0;
    if (e === Ch.UpperE || e === Ch.LowerE) {
      q++;
      const sign = q < end ? b[q]! : 0;
      if (sign === Ch.Plus || sign === Ch.Minus) q++;
      if (!(q < end && is(b[q]!, Cls.Digit))) return K.Bad;
      while (is(b[q]!, Cls.Digit)) q++;
      isReal = true;
    }
    if (!isReal) {
      if (q < end && is(b[q]!, Cls.NameChar)) return K.Bad;
      if (b[p]! === Ch.Zero && q - p > 1) return K.Bad;
    }
    this.pos = q;
    return K.Literal;
  }

  /** A string literal at `p`, with those adjacent to it (§1.5). */
  protected string(p: number): K {
    const b = this.b;
    const end = this.end;
    let q = p;
    for (;;) {
      q = this.quoted(q, Ch.DQuote);
      if (q < 0) return K.Bad;
      let w = q;
      while (is(b[w]!, Cls.Space)) w++;
      if (w < end && b[w]! === Ch.DQuote) q = w;
      else break;
    }
    this.pos = q;
    return K.Literal;
  }

  protected quotedName(p: number): K {
    const q = this.quoted(p, Ch.SQuote);
    if (q < 0 || q === p + 2) return K.Bad;
    this.pos = q;
    return K.QuotedName;
  }

  /**
   * Past the quoted text opening at `p` (new syntax escapes, §1.5), or -1 when it is unterminated
   * or an octal escape gives a NUL character.
   */
  protected quoted(p: number, quote: number): number {
    const b = this.b;
    const end = this.end;
    let q = p + 1;
    while (q < end) {
      const c = b[q]!;
      if (c === quote) return q + 1;
      if (c !== Ch.Backslash) {
        q++;
        continue;
      }
      q++;
      if (q >= end) return -1;
      const e = b[q]!;
      if (e < Ch.Zero || e > Ch.Seven) {
        q++;
        continue;
      }
      let byte = e - Ch.Zero;
      q++;
      if (q < end && b[q]! >= Ch.Zero && b[q]! <= Ch.Seven) {
        byte = byte * 8 + (b[q]! - Ch.Zero);
        q++;
        // A third octal digit is taken only while the value so far is below 0x20.
        if (byte < 0x20 && q < end && b[q]! >= Ch.Zero && b[q]! <= Ch.Seven) {
          byte = byte * 8 + (b[q]! - Ch.Zero);
          q++;
        }
      }
      if (byte === 0) return -1;
    }
    return -1;
  }
}
