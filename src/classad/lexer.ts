/**
 * ClassAd tokenizer (SEMANTICS §1). It works on character codes and keeps the current token in
 * its own fields, so lexing allocates nothing but the strings and numbers it produces.
 * Lexical errors become an `Tok.Invalid` token: the parser reports it only if it needs that
 * token, which lets the old long form ignore junk after a complete expression (§1.10).
 */
import { Ch, Cls, charClasses } from "./chars.js";
import { lowerName } from "./names.js";
import { ERROR, Real, UNDEFINED, type Value, makeInteger } from "./value.js";

export const enum Tok {
  End,
  Invalid,
  /** A literal value (integer, real, string, boolean, undefined, error) in `value`. */
  Literal,
  /** A name in `text` (`quoted` when written `'...'`). */
  Name,
  Dot,
  Star,
  Slash,
  Percent,
  Plus,
  Minus,
  Tilde,
  Caret,
  Amp,
  Pipe,
  AndAnd,
  OrOr,
  Bang,
  Lt,
  Le,
  Shl,
  Gt,
  Ge,
  Shr,
  Ushr,
  EqEq,
  NotEq,
  MetaEq,
  MetaNe,
  Assign,
  Question,
  Elvis,
  Colon,
  Semicolon,
  Comma,
  LBracket,
  RBracket,
  LParen,
  RParen,
  LBrace,
  RBrace,
}

/** Character classes of ASCII codes, looked up rather than computed on the hot path. */
const CHAR_CLASS = charClasses();

function isDigit(c: number): boolean {
  return c < 128 && (CHAR_CLASS[c]! & Cls.Digit) !== 0;
}
function isNameStart(c: number): boolean {
  return c < 128 && (CHAR_CLASS[c]! & Cls.NameStart) !== 0;
}
function isNameChar(c: number): boolean {
  return c < 128 && (CHAR_CLASS[c]! & Cls.NameChar) !== 0;
}
function isSpace(c: number): boolean {
  return c < 128 && (CHAR_CLASS[c]! & Cls.Space) !== 0;
}

const KEYWORD_VALUES: ReadonlyMap<string, Value> = new Map<string, Value>([
  ["true", true],
  ["false", false],
  ["undefined", UNDEFINED],
  ["error", ERROR],
]);

const INT64_LIMIT = 2n ** 63n;

export class Lexer {
  tok: Tok = Tok.End;
  /** Offset of the current token's first character. */
  start = 0;
  /** Value of a `Tok.Literal`. */
  value: Value = UNDEFINED;
  /** Name of a `Tok.Name`. */
  text = "";
  /** The current `Tok.Name` was written in single quotes. */
  quoted = false;
  /** Why the current token is `Tok.Invalid`. */
  problem = "";
  /** Offset just past the previous token (for "after ..." positions). */
  private pos: number;
  private prevEndsOperand = false;

  constructor(
    readonly source: string,
    /** Old-ClassAd string syntax: backslash escapes only a quote (§1.5). */
    readonly oldStrings = false,
    begin = 0,
    private readonly end = source.length,
  ) {
    this.pos = begin;
    this.next();
  }

  /** The current token (a method, so that checks after `next()` are not narrowed away). */
  cur(): Tok {
    return this.tok;
  }

  /** Offset just past the current token. */
  get tokenEnd(): number {
    return this.pos;
  }

  /** Advance to the next token. */
  next(): void {
    const s = this.source;
    const end = this.end;
    let p = this.pos;
    // Whitespace and comments (§1.1). Tokens are most often separated by one space.
    if (p < end && s.charCodeAt(p) === Ch.Space) p++;
    for (;;) {
      while (p < end && isSpace(s.charCodeAt(p))) p++;
      if (p + 1 < end && s.charCodeAt(p) === Ch.Slash) {
        const c2 = s.charCodeAt(p + 1);
        if (c2 === Ch.Slash) {
          p += 2;
          while (p < end && s.charCodeAt(p) !== Ch.Lf) p++;
          continue;
        }
        if (c2 === Ch.Star) {
          const close = s.indexOf("*/", p + 2);
          if (close < 0 || close + 2 > end) {
            this.start = p;
            this.pos = end;
            return this.invalid("unterminated /* comment");
          }
          p = close + 2;
          continue;
        }
      }
      break;
    }
    this.start = p;
    if (p >= end) {
      this.pos = p;
      this.tok = Tok.End;
      return;
    }
    const c = s.charCodeAt(p);
    if (isNameStart(c)) return this.lexName(p);
    if (isDigit(c)) return this.lexNumber(p);
    switch (c) {
      case Ch.DQuote:
        return this.lexString(p);
      case Ch.SQuote:
        return this.lexQuotedName(p);
      case Ch.Dot:
        if (p + 1 < end && isDigit(s.charCodeAt(p + 1))) return this.lexNumber(p);
        return this.punct(Tok.Dot, p + 1, false);
      case Ch.Minus:
        // §1.4: a minus directly followed by a number is part of the literal unless the previous
        // token ended an operand (then it is the binary operator).
        if (!this.prevEndsOperand && p + 1 < end) {
          const d = s.charCodeAt(p + 1);
          if (isDigit(d) || (d === Ch.Dot && p + 2 < end && isDigit(s.charCodeAt(p + 2)))) {
            return this.lexNumber(p);
          }
        }
        return this.punct(Tok.Minus, p + 1, false);
      case Ch.Star:
        return this.punct(Tok.Star, p + 1, false);
      case Ch.Slash:
        return this.punct(Tok.Slash, p + 1, false);
      case Ch.Percent:
        return this.punct(Tok.Percent, p + 1, false);
      case Ch.Plus:
        return this.punct(Tok.Plus, p + 1, false);
      case Ch.Tilde:
        return this.punct(Tok.Tilde, p + 1, false);
      case Ch.Caret:
        return this.punct(Tok.Caret, p + 1, false);
      case Ch.Amp:
        return s.charCodeAt(p + 1) === Ch.Amp && p + 1 < end
          ? this.punct(Tok.AndAnd, p + 2, false)
          : this.punct(Tok.Amp, p + 1, false);
      case Ch.Pipe:
        return s.charCodeAt(p + 1) === Ch.Pipe && p + 1 < end
          ? this.punct(Tok.OrOr, p + 2, false)
          : this.punct(Tok.Pipe, p + 1, false);
      case Ch.Bang:
        return this.at(p + 1, Ch.Eq)
          ? this.punct(Tok.NotEq, p + 2, false)
          : this.punct(Tok.Bang, p + 1, false);
      case Ch.Lt:
        if (this.at(p + 1, Ch.Eq)) return this.punct(Tok.Le, p + 2, false);
        if (this.at(p + 1, Ch.Lt)) return this.punct(Tok.Shl, p + 2, false);
        return this.punct(Tok.Lt, p + 1, false);
      case Ch.Gt:
        if (this.at(p + 1, Ch.Eq)) return this.punct(Tok.Ge, p + 2, false);
        if (this.at(p + 1, Ch.Gt)) {
          if (this.at(p + 2, Ch.Gt)) return this.punct(Tok.Ushr, p + 3, false);
          return this.punct(Tok.Shr, p + 2, false);
        }
        return this.punct(Tok.Gt, p + 1, false);
      case Ch.Eq:
        if (this.at(p + 1, Ch.Eq)) return this.punct(Tok.EqEq, p + 2, false);
        if (this.at(p + 1, Ch.Question) && this.at(p + 2, Ch.Eq)) {
          return this.punct(Tok.MetaEq, p + 3, false);
        }
        if (this.at(p + 1, Ch.Bang) && this.at(p + 2, Ch.Eq)) {
          return this.punct(Tok.MetaNe, p + 3, false);
        }
        return this.punct(Tok.Assign, p + 1, false);
      case Ch.Question: {
        // `?` then optional whitespace then `:` is one elvis token (§1.8).
        let q = p + 1;
        while (q < end && isSpace(s.charCodeAt(q))) q++;
        if (this.at(q, Ch.Colon)) return this.punct(Tok.Elvis, q + 1, false);
        return this.punct(Tok.Question, p + 1, false);
      }
      case Ch.Colon:
        return this.punct(Tok.Colon, p + 1, false);
      case Ch.Semi:
        return this.punct(Tok.Semicolon, p + 1, false);
      case Ch.Comma:
        return this.punct(Tok.Comma, p + 1, false);
      case Ch.LBracket:
        return this.punct(Tok.LBracket, p + 1, false);
      case Ch.RBracket:
        return this.punct(Tok.RBracket, p + 1, true);
      case Ch.LParen:
        return this.punct(Tok.LParen, p + 1, false);
      case Ch.RParen:
        return this.punct(Tok.RParen, p + 1, true);
      case Ch.LBrace:
        return this.punct(Tok.LBrace, p + 1, false);
      case Ch.RBrace:
        return this.punct(Tok.RBrace, p + 1, true);
      default:
        this.pos = p + 1;
        return this.invalid(`unexpected character ${describeChar(s, p)}`);
    }
  }

  private at(p: number, code: number): boolean {
    return p < this.end && this.source.charCodeAt(p) === code;
  }

  private punct(tok: Tok, after: number, endsOperand: boolean): void {
    this.tok = tok;
    this.pos = after;
    this.prevEndsOperand = endsOperand;
  }

  private invalid(problem: string): void {
    this.tok = Tok.Invalid;
    this.problem = problem;
    this.prevEndsOperand = false;
  }

  private literal(value: Value, after: number): void {
    this.tok = Tok.Literal;
    this.value = value;
    this.pos = after;
    this.prevEndsOperand = true;
  }

  private lexName(p: number): void {
    const s = this.source;
    const end = this.end;
    let q = p + 1;
    while (q < end && isNameChar(s.charCodeAt(q))) q++;
    const name = s.slice(p, q);
    // Keywords are case-insensitive (§1.6); only names of their lengths and initials can be one.
    const len = q - p;
    const initial = s.charCodeAt(p) | 0x20;
    if (
      (len === 2 || len === 4 || len === 5 || len === 9) &&
      (initial === 0x74 ||
        initial === 0x66 ||
        initial === 0x75 ||
        initial === 0x65 ||
        initial === 0x69)
    ) {
      const lower = lowerName(name);
      const keyword = KEYWORD_VALUES.get(lower);
      if (keyword !== undefined) return this.literal(keyword, q);
      if (lower === "is") return this.punct(Tok.MetaEq, q, false);
      if (lower === "isnt") return this.punct(Tok.MetaNe, q, false);
    }
    this.tok = Tok.Name;
    this.text = name;
    this.quoted = false;
    this.pos = q;
    this.prevEndsOperand = true;
  }

  private lexNumber(p: number): void {
    const s = this.source;
    const end = this.end;
    let q = p;
    if (s.charCodeAt(q) === Ch.Minus) q++;
    const digitsStart = q;
    while (q < end && isDigit(s.charCodeAt(q))) q++;
    let isReal = false;
    if (q < end && s.charCodeAt(q) === Ch.Dot) {
      // §1.3: a '.' in a number must be followed by a digit (`5.` and `1.e5` are errors).
      if (!(q + 1 < end && isDigit(s.charCodeAt(q + 1)))) {
        this.pos = q + 1;
        return this.invalid("a '.' in a number must be followed by a digit");
      }
      q++;
      while (q < end && isDigit(s.charCodeAt(q))) q++;
      isReal = true;
    }
    const e = q < end ? s.charCodeAt(q) : 0;
    if (e === 69 || e === 101) {
      q++;
      const sign = q < end ? s.charCodeAt(q) : 0;
      if (sign === Ch.Plus || sign === Ch.Minus) q++;
      if (!(q < end && isDigit(s.charCodeAt(q)))) {
        this.pos = q;
        return this.invalid("exponent has no digits");
      }
      while (q < end && isDigit(s.charCodeAt(q))) q++;
      isReal = true;
    }
    if (q < end && isNameChar(s.charCodeAt(q)) && !isReal) {
      this.pos = q + 1;
      return this.invalid(`malformed number '${s.slice(p, q + 1)}'`);
    }
    if (isReal) return this.literal(new Real(Number(s.slice(p, q))), q);
    // Old semantics (HTCondor's default): an integer written with a leading zero (octal/hex
    // style, `017`, `00`) is a lexical error (§0, §1.2). `-007` passes: the check looks at the
    // first character of the token, which is the minus sign.
    if (s.charCodeAt(p) === Ch.Zero && q - p > 1) {
      this.pos = q;
      return this.invalid(`integer '${s.slice(p, q)}' has a leading zero`);
    }
    const ndigits = q - digitsStart;
    if (ndigits <= 15) {
      let n = 0;
      for (let i = digitsStart; i < q; i++) n = n * 10 + (s.charCodeAt(i) - Ch.Zero);
      return this.literal(digitsStart > p ? (n === 0 ? 0 : -n) : n, q);
    }
    const big = BigInt(s.slice(p, q));
    // §1.2: an out-of-range literal leaves from_chars's value at 0.
    const inRange = big >= -INT64_LIMIT && big < INT64_LIMIT;
    return this.literal(inRange ? makeInteger(big) : 0, q);
  }

  private lexString(p: number): void {
    const s = this.source;
    let value = "";
    let q = p;
    for (;;) {
      const r = this.oldStrings ? this.readOldString(q) : this.readString(q, Ch.DQuote);
      if (r === null) return;
      value += r;
      q = this.pos;
      if (this.oldStrings) break;
      // Adjacent literals separated only by whitespace are one string (§1.5).
      let w = q;
      while (w < this.end && isSpace(s.charCodeAt(w))) w++;
      if (w < this.end && s.charCodeAt(w) === Ch.DQuote) q = w;
      else break;
    }
    this.literal(value, this.pos);
  }

  private lexQuotedName(p: number): void {
    const name = this.readString(p, Ch.SQuote);
    if (name === null) return;
    if (name === "") return this.invalid("empty quoted attribute name");
    this.tok = Tok.Name;
    this.text = name;
    this.quoted = true;
    this.prevEndsOperand = true;
  }

  /**
   * A new-syntax quoted text starting at the quote at `p`, with escapes processed (§1.5); sets
   * `pos` past the closing quote. Returns null (and makes the token invalid) on error.
   */
  private readString(p: number, quote: number): string | null {
    const s = this.source;
    const end = this.end;
    let q = p + 1;
    // Fast path: no escapes.
    while (q < end) {
      const c = s.charCodeAt(q);
      if (c === quote) {
        this.pos = q + 1;
        return s.slice(p + 1, q);
      }
      if (c === Ch.Backslash) break;
      q++;
    }
    // Escapes can produce arbitrary bytes (octal), so the value is assembled as UTF-8 bytes.
    const bytes: number[] = [];
    let segment = p + 1;
    const flush = (upTo: number): void => {
      if (upTo > segment)
        for (const b of Buffer.from(s.slice(segment, upTo), "utf8")) bytes.push(b);
    };
    q = p + 1;
    while (q < end) {
      const c = s.charCodeAt(q);
      if (c === quote) {
        flush(q);
        this.pos = q + 1;
        return Buffer.from(bytes).toString("utf8");
      }
      if (c !== Ch.Backslash) {
        q++;
        continue;
      }
      flush(q);
      q++;
      if (q >= end) break;
      const e = s.charCodeAt(q);
      let byte: number;
      if (e >= Ch.Zero && e <= Ch.Seven) {
        byte = e - Ch.Zero;
        q++;
        if (q < end && s.charCodeAt(q) >= Ch.Zero && s.charCodeAt(q) <= Ch.Seven) {
          byte = byte * 8 + (s.charCodeAt(q) - Ch.Zero);
          q++;
          // A third octal digit is taken only while the value so far is below 0x20.
          if (byte < 0x20 && q < end && s.charCodeAt(q) >= Ch.Zero && s.charCodeAt(q) <= Ch.Seven) {
            byte = byte * 8 + (s.charCodeAt(q) - Ch.Zero);
            q++;
          }
        }
        if (byte === 0) {
          this.pos = q;
          this.start = p;
          this.invalid("string contains a NUL character");
          return null;
        }
        bytes.push(byte);
        segment = q;
        continue;
      }
      switch (e) {
        case 110: // n
          byte = 10;
          break;
        case 116: // t
          byte = 9;
          break;
        case 114: // r
          byte = 13;
          break;
        case 97: // a
          byte = 7;
          break;
        case 98: // b
          byte = 8;
          break;
        case 102: // f
          byte = 12;
          break;
        case 118: // v
          byte = 11;
          break;
        default:
          // `\"`, `\'`, `\\`, `\?` and any other `\c` give `c` (the backslash is dropped).
          segment = q;
          q++;
          continue;
      }
      bytes.push(byte);
      q++;
      segment = q;
    }
    this.pos = end;
    this.start = p;
    this.invalid(quote === Ch.DQuote ? "unterminated string" : "unterminated quoted name");
    return null;
  }

  /**
   * An old-syntax string (§1.5): backslash escapes nothing but a quote, and `\"` at the end of
   * the line or input is a backslash ending the string.
   */
  private readOldString(p: number): string | null {
    const s = this.source;
    const end = this.end;
    let out = "";
    let segment = p + 1;
    let q = p + 1;
    while (q < end) {
      const c = s.charCodeAt(q);
      if (c === Ch.DQuote) {
        this.pos = q + 1;
        return out + s.slice(segment, q);
      }
      if (c === Ch.Lf) break;
      if (c === Ch.Backslash && q + 1 < end && s.charCodeAt(q + 1) === Ch.DQuote) {
        const after = q + 2;
        const c3 = after < end ? s.charCodeAt(after) : Ch.Lf;
        if (c3 === Ch.Lf || c3 === Ch.Cr) {
          this.pos = after;
          return out + s.slice(segment, q + 1);
        }
        out += s.slice(segment, q) + '"';
        q += 2;
        segment = q;
        continue;
      }
      q++;
    }
    this.pos = q;
    this.start = p;
    this.invalid("unterminated string");
    return null;
  }
}

function describeChar(s: string, p: number): string {
  const c = s.codePointAt(p) ?? 0;
  return c > 32 && c < 127 ? `'${String.fromCharCode(c)}'` : `U+${c.toString(16).padStart(4, "0")}`;
}

/** How a token reads in an error message. */
export function describeToken(lx: Lexer): string {
  switch (lx.cur()) {
    case Tok.End:
      return "end of input";
    case Tok.Invalid:
      return lx.problem;
    case Tok.Name:
      return lx.quoted ? `name '${lx.text}'` : `name ${lx.text}`;
    default:
      return `'${lx.source.slice(lx.start, Math.min(lx.tokenEnd, lx.start + 20))}'`;
  }
}
