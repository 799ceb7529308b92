/**
 * ClassAd tokenizer (SEMANTICS §1). It works on character codes and keeps the current token in
 * its own fields, so lexing allocates nothing but the strings and numbers it produces.
 * Lexical errors become an `Tok.Invalid` token: the parser reports it only if it needs that
 * token, which lets the old long form ignore junk after a complete expression (§1.10).
 */
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

const C_TAB = 9,
  C_LF = 10,
  C_CR = 13,
  C_SPACE = 32,
  C_BANG = 33,
  C_DQUOTE = 34,
  C_PERCENT = 37,
  C_AMP = 38,
  C_SQUOTE = 39,
  C_LPAREN = 40,
  C_RPAREN = 41,
  C_STAR = 42,
  C_PLUS = 43,
  C_COMMA = 44,
  C_MINUS = 45,
  C_DOT = 46,
  C_SLASH = 47,
  C_0 = 48,
  C_7 = 55,
  C_9 = 57,
  C_COLON = 58,
  C_SEMI = 59,
  C_LT = 60,
  C_EQ = 61,
  C_GT = 62,
  C_QUESTION = 63,
  C_LBRACKET = 91,
  C_BACKSLASH = 92,
  C_RBRACKET = 93,
  C_CARET = 94,
  C_UNDERSCORE = 95,
  C_LBRACE = 123,
  C_PIPE = 124,
  C_RBRACE = 125,
  C_TILDE = 126;

/** Character classes of ASCII codes, looked up rather than computed on the hot path. */
const DIGIT = 1,
  NAME_START = 2,
  NAME_CHAR = 4,
  SPACE = 8;
const CHAR_CLASS = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  const digit = c >= C_0 && c <= C_9;
  const alpha = (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === C_UNDERSCORE;
  CHAR_CLASS[c] =
    (digit ? DIGIT | NAME_CHAR : 0) |
    (alpha ? NAME_START | NAME_CHAR : 0) |
    // C's isspace
    (c === C_SPACE || (c >= C_TAB && c <= C_CR) ? SPACE : 0);
}

function isDigit(c: number): boolean {
  return c < 128 && (CHAR_CLASS[c]! & DIGIT) !== 0;
}
function isNameStart(c: number): boolean {
  return c < 128 && (CHAR_CLASS[c]! & NAME_START) !== 0;
}
function isNameChar(c: number): boolean {
  return c < 128 && (CHAR_CLASS[c]! & NAME_CHAR) !== 0;
}
function isSpace(c: number): boolean {
  return c < 128 && (CHAR_CLASS[c]! & SPACE) !== 0;
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
    if (p < end && s.charCodeAt(p) === C_SPACE) p++;
    for (;;) {
      while (p < end && isSpace(s.charCodeAt(p))) p++;
      if (p + 1 < end && s.charCodeAt(p) === C_SLASH) {
        const c2 = s.charCodeAt(p + 1);
        if (c2 === C_SLASH) {
          p += 2;
          while (p < end && s.charCodeAt(p) !== C_LF) p++;
          continue;
        }
        if (c2 === C_STAR) {
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
      case C_DQUOTE:
        return this.lexString(p);
      case C_SQUOTE:
        return this.lexQuotedName(p);
      case C_DOT:
        if (p + 1 < end && isDigit(s.charCodeAt(p + 1))) return this.lexNumber(p);
        return this.punct(Tok.Dot, p + 1, false);
      case C_MINUS:
        // §1.4: a minus directly followed by a number is part of the literal unless the previous
        // token ended an operand (then it is the binary operator).
        if (!this.prevEndsOperand && p + 1 < end) {
          const d = s.charCodeAt(p + 1);
          if (isDigit(d) || (d === C_DOT && p + 2 < end && isDigit(s.charCodeAt(p + 2)))) {
            return this.lexNumber(p);
          }
        }
        return this.punct(Tok.Minus, p + 1, false);
      case C_STAR:
        return this.punct(Tok.Star, p + 1, false);
      case C_SLASH:
        return this.punct(Tok.Slash, p + 1, false);
      case C_PERCENT:
        return this.punct(Tok.Percent, p + 1, false);
      case C_PLUS:
        return this.punct(Tok.Plus, p + 1, false);
      case C_TILDE:
        return this.punct(Tok.Tilde, p + 1, false);
      case C_CARET:
        return this.punct(Tok.Caret, p + 1, false);
      case C_AMP:
        return s.charCodeAt(p + 1) === C_AMP && p + 1 < end
          ? this.punct(Tok.AndAnd, p + 2, false)
          : this.punct(Tok.Amp, p + 1, false);
      case C_PIPE:
        return s.charCodeAt(p + 1) === C_PIPE && p + 1 < end
          ? this.punct(Tok.OrOr, p + 2, false)
          : this.punct(Tok.Pipe, p + 1, false);
      case C_BANG:
        return this.at(p + 1, C_EQ)
          ? this.punct(Tok.NotEq, p + 2, false)
          : this.punct(Tok.Bang, p + 1, false);
      case C_LT:
        if (this.at(p + 1, C_EQ)) return this.punct(Tok.Le, p + 2, false);
        if (this.at(p + 1, C_LT)) return this.punct(Tok.Shl, p + 2, false);
        return this.punct(Tok.Lt, p + 1, false);
      case C_GT:
        if (this.at(p + 1, C_EQ)) return this.punct(Tok.Ge, p + 2, false);
        if (this.at(p + 1, C_GT)) {
          if (this.at(p + 2, C_GT)) return this.punct(Tok.Ushr, p + 3, false);
          return this.punct(Tok.Shr, p + 2, false);
        }
        return this.punct(Tok.Gt, p + 1, false);
      case C_EQ:
        if (this.at(p + 1, C_EQ)) return this.punct(Tok.EqEq, p + 2, false);
        if (this.at(p + 1, C_QUESTION) && this.at(p + 2, C_EQ)) {
          return this.punct(Tok.MetaEq, p + 3, false);
        }
        if (this.at(p + 1, C_BANG) && this.at(p + 2, C_EQ)) {
          return this.punct(Tok.MetaNe, p + 3, false);
        }
        return this.punct(Tok.Assign, p + 1, false);
      case C_QUESTION: {
        // `?` then optional whitespace then `:` is one elvis token (§1.8).
        let q = p + 1;
        while (q < end && isSpace(s.charCodeAt(q))) q++;
        if (this.at(q, C_COLON)) return this.punct(Tok.Elvis, q + 1, false);
        return this.punct(Tok.Question, p + 1, false);
      }
      case C_COLON:
        return this.punct(Tok.Colon, p + 1, false);
      case C_SEMI:
        return this.punct(Tok.Semicolon, p + 1, false);
      case C_COMMA:
        return this.punct(Tok.Comma, p + 1, false);
      case C_LBRACKET:
        return this.punct(Tok.LBracket, p + 1, false);
      case C_RBRACKET:
        return this.punct(Tok.RBracket, p + 1, true);
      case C_LPAREN:
        return this.punct(Tok.LParen, p + 1, false);
      case C_RPAREN:
        return this.punct(Tok.RParen, p + 1, true);
      case C_LBRACE:
        return this.punct(Tok.LBrace, p + 1, false);
      case C_RBRACE:
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
    if (s.charCodeAt(q) === C_MINUS) q++;
    const digitsStart = q;
    while (q < end && isDigit(s.charCodeAt(q))) q++;
    let isReal = false;
    if (q < end && s.charCodeAt(q) === C_DOT) {
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
      if (sign === C_PLUS || sign === C_MINUS) q++;
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
    if (s.charCodeAt(p) === C_0 && q - p > 1) {
      this.pos = q;
      return this.invalid(`integer '${s.slice(p, q)}' has a leading zero`);
    }
    const ndigits = q - digitsStart;
    if (ndigits <= 15) {
      let n = 0;
      for (let i = digitsStart; i < q; i++) n = n * 10 + (s.charCodeAt(i) - C_0);
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
      const r = this.oldStrings ? this.readOldString(q) : this.readString(q, C_DQUOTE);
      if (r === null) return;
      value += r;
      q = this.pos;
      if (this.oldStrings) break;
      // Adjacent literals separated only by whitespace are one string (§1.5).
      let w = q;
      while (w < this.end && isSpace(s.charCodeAt(w))) w++;
      if (w < this.end && s.charCodeAt(w) === C_DQUOTE) q = w;
      else break;
    }
    this.literal(value, this.pos);
  }

  private lexQuotedName(p: number): void {
    const name = this.readString(p, C_SQUOTE);
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
      if (c === C_BACKSLASH) break;
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
      if (c !== C_BACKSLASH) {
        q++;
        continue;
      }
      flush(q);
      q++;
      if (q >= end) break;
      const e = s.charCodeAt(q);
      let byte: number;
      if (e >= C_0 && e <= C_7) {
        byte = e - C_0;
        q++;
        if (q < end && s.charCodeAt(q) >= C_0 && s.charCodeAt(q) <= C_7) {
          byte = byte * 8 + (s.charCodeAt(q) - C_0);
          q++;
          // A third octal digit is taken only while the value so far is below 0x20.
          if (byte < 0x20 && q < end && s.charCodeAt(q) >= C_0 && s.charCodeAt(q) <= C_7) {
            byte = byte * 8 + (s.charCodeAt(q) - C_0);
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
    this.invalid(quote === C_DQUOTE ? "unterminated string" : "unterminated quoted name");
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
      if (c === C_DQUOTE) {
        this.pos = q + 1;
        return out + s.slice(segment, q);
      }
      if (c === C_LF) break;
      if (c === C_BACKSLASH && q + 1 < end && s.charCodeAt(q + 1) === C_DQUOTE) {
        const after = q + 2;
        const c3 = after < end ? s.charCodeAt(after) : C_LF;
        if (c3 === C_LF || c3 === C_CR) {
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
