/**
 * The fast path of `ClassAd.parse` for an ad in new syntax: one pass over the character codes that
 * builds the attribute map directly, with no token objects and no tree for most attributes.
 *
 * - A value that is one literal (most attributes of a real ad: numbers, strings, booleans)
 *   becomes its entry's constant at once.
 * - Any other expression is checked here to be well formed, by the grammar of parser.ts run over
 *   token kinds alone, and kept as its text range; the tree is built on first use
 *   (`AttrEntry.expr`). So a syntax error is still reported by `parse`, never later.
 *
 * The scanner does not report errors itself: whenever it meets something it does not handle
 * (a quoted or repeated attribute name, an escaped or split string literal, a long or deeply
 * nested expression, anything malformed) it gives up, and the full parser parses the whole ad
 * and reports the error with its position. Giving up is always safe; accepting what the parser
 * rejects would not be, which the property tests compare on generated and damaged ads.
 */
import { AttrEntry } from "./attr-entry.js";
import { ATTRIBUTE_NAMES } from "./names.js";
import { parseRange } from "./parser.js";
import { ERROR, UNDEFINED, type Value } from "./value.js";

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
  C_E = 69,
  C_LBRACKET = 91,
  C_BACKSLASH = 92,
  C_RBRACKET = 93,
  C_CARET = 94,
  C_UNDERSCORE = 95,
  C_LOWER_E = 101,
  C_LBRACE = 123,
  C_PIPE = 124,
  C_RBRACE = 125,
  C_TILDE = 126;

const DIGIT = 1,
  NAME_START = 2,
  NAME_CHAR = 4,
  SPACE = 8;
/** Character classes of ASCII codes, as the lexer has them (the scanner sees no other bytes). */
const CLASS = new Uint8Array(256);
for (let c = 0; c < 128; c++) {
  const digit = c >= C_0 && c <= C_9;
  const alpha = (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === C_UNDERSCORE;
  CLASS[c] =
    (digit ? DIGIT | NAME_CHAR : 0) |
    (alpha ? NAME_START | NAME_CHAR : 0) |
    (c === C_SPACE || (c >= C_TAB && c <= C_CR) ? SPACE : 0);
}
function is(c: number, cls: number): boolean {
  return (CLASS[c]! & cls) !== 0;
}

/** Token kinds as far as the grammar tells them apart. */
const enum K {
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

/** Where the grammar is between tokens. */
const enum S {
  /** A unary expression must follow. */
  Operand,
  /** After `?:`: a primary must follow (no unary operator). */
  Primary,
  /** After an operand. */
  After,
  /** After an unquoted name: `(` makes it a call. */
  AfterName,
  /** After a call's `(`: `)` or an argument. */
  Arguments,
  /** After `{`: `}` or an item. */
  Items,
  /** In a nested ad: `;`s, then a name or `]`. */
  AdName,
  /** After a nested ad's attribute name: `=`. */
  Assign,
}

/** What an open bracket or `?` on the stack waits for. */
const enum Ctx {
  Paren,
  Call,
  List,
  Subscript,
  Ad,
  /** Between `?` and its `:`. */
  Then,
  /** After a `:`: ends where the enclosing expression ends. */
  Else,
}

/**
 * Expressions of more tokens are left to the full parser. The bound keeps the parser's nesting
 * depth (at most two levels per token, plus the ad's own) below MAX_DEPTH, so an expression the
 * scanner accepts can never fail the depth check when parsed later.
 */
const MAX_TOKENS = 400;
const MAX_NESTING = 64;

const KEYWORD_NONE = 0,
  KEYWORD_LITERAL = 1,
  KEYWORD_OPERATOR = 2;

/** Which keyword (§1.6: case-insensitive) the name at [p, q) is, if any. */
function keyword(b: Uint8Array, p: number, q: number): number {
  const len = q - p;
  if (len !== 2 && len !== 4 && len !== 5 && len !== 9) return KEYWORD_NONE;
  switch (b[p]! | 0x20) {
    case 0x74: // t
      return lowerEquals(b, p, len, "true") ? KEYWORD_LITERAL : KEYWORD_NONE;
    case 0x66: // f
      return lowerEquals(b, p, len, "false") ? KEYWORD_LITERAL : KEYWORD_NONE;
    case 0x75: // u
      return lowerEquals(b, p, len, "undefined") ? KEYWORD_LITERAL : KEYWORD_NONE;
    case 0x65: // e
      return lowerEquals(b, p, len, "error") ? KEYWORD_LITERAL : KEYWORD_NONE;
    case 0x69: // i
      return lowerEquals(b, p, len, "is") || lowerEquals(b, p, len, "isnt")
        ? KEYWORD_OPERATOR
        : KEYWORD_NONE;
    default:
      return KEYWORD_NONE;
  }
}

/** Name characters at `p` spell `word` (lower case) in any case. */
function lowerEquals(b: Uint8Array, p: number, len: number, word: string): boolean {
  if (len !== word.length) return false;
  // Name characters are letters, digits and `_`; setting 0x20 folds only the letters onto
  // lower case, and no digit or `_` lands on a letter.
  for (let i = 0; i < len; i++) if ((b[p + i]! | 0x20) !== word.charCodeAt(i)) return false;
  return true;
}

/** The value of the keyword literal at `p`: true, false, undefined or error. */
function keywordValue(b: Uint8Array, p: number): Value {
  switch (b[p]! | 0x20) {
    case 0x74:
      return true;
    case 0x66:
      return false;
    case 0x75:
      return UNDEFINED;
    default:
      return ERROR;
  }
}

/** Text of at most this many characters is scanned; longer text is left to the full parser. */
const MAX_SCANNED_LENGTH = 1 << 20;
/** Ads up to this length are copied to one reused buffer, larger ones to a buffer of their own. */
const SCRATCH_LENGTH = 1 << 16;
const scratch = new Uint8Array(SCRATCH_LENGTH);
const encoder = new TextEncoder();

class AdScanner {
  /** The ad's text. */
  private s = "";
  /** Its characters, one byte each (the text is ASCII), and a NUL after them. */
  private b: Uint8Array = scratch;
  private end = 0;
  /** Offset just past the last token read. */
  private pos = 0;
  /** Offset of the last token read. */
  private start = 0;
  private readonly stack = new Uint8Array(MAX_NESTING);

  /** The attribute entries of `text`, whose bytes are `bytes`, or null (see `scanAd`). */
  entries(text: string, bytes: Uint8Array): Map<string, AttrEntry> | null {
    this.s = text;
    this.b = bytes;
    this.end = text.length;
    try {
      return this.scan();
    } finally {
      // The text is not kept past the call.
      this.s = "";
    }
  }

  /** Skip whitespace and comments from `p` as the lexer does; -1 for an unterminated comment. */
  private blank(p: number): number {
    const b = this.b;
    const end = this.end;
    for (;;) {
      while (p < end && is(b[p]!, SPACE)) p++;
      if (p + 1 < end && b[p]! === C_SLASH) {
        const c2 = b[p + 1];
        if (c2 === C_SLASH) {
          p += 2;
          while (p < end && b[p]! !== C_LF) p++;
          continue;
        }
        if (c2 === C_STAR) {
          const close = this.s.indexOf("*/", p + 2);
          if (close < 0) return -1;
          p = close + 2;
          continue;
        }
      }
      return p;
    }
  }

  /** The entries of the ad, or null to leave the ad to the full parser. */
  private scan(): Map<string, AttrEntry> | null {
    const b = this.b;
    const end = this.end;
    let p = this.blank(0);
    if (p < 0 || b[p]! !== C_LBRACKET) return null;
    p++;
    const entries = new Map<string, AttrEntry>();
    let count = 0;
    for (;;) {
      p = this.blank(p);
      if (p < 0) return null;
      let c = b[p]!;
      while (c === C_SEMI) {
        p = this.blank(p + 1);
        if (p < 0) return null;
        c = b[p]!;
      }
      if (c === C_RBRACKET) {
        return this.blank(p + 1) === end ? entries : null;
      }
      if (!is(c, NAME_START)) return null;
      let q = p + 1;
      let hash = c;
      for (; q < end; q++) {
        const d = b[q]!;
        if (!is(d, NAME_CHAR)) break;
        hash = (Math.imul(hash, 31) + d) | 0;
      }
      if (keyword(b, p, q) !== KEYWORD_NONE) return null;
      const spelling = ATTRIBUTE_NAMES.intern(this.s, b, p, q, hash);
      const key = ATTRIBUTE_NAMES.key;
      p = this.blank(q);
      if (p < 0 || b[p]! !== C_EQ) return null;
      // `==`, `=?=` and `=!=` are operators, not the assignment.
      const next = b[p + 1];
      if (next === C_EQ || next === C_QUESTION || next === C_BANG) return null;
      const v = this.blank(p + 1);
      if (v < 0) return null;
      const entry = this.literalEntry(spelling, v) ?? this.expressionEntry(spelling, v);
      if (entry === null) return null;
      entries.set(key, entry);
      // A repeated name keeps its first spelling (§1.7): left to the full path.
      if (entries.size !== ++count) return null;
      // `pos` is at the `;` or `]` ending the value.
      p = this.pos;
    }
  }

  /**
   * An entry for a value at `v` that is one plain literal followed by `;` or `]` (`pos` then at
   * that), else null. Plain: a decimal integer of at most 15 digits, a string without escapes
   * and not continued by another, or a keyword literal; anything else takes the general path.
   */
  private literalEntry(name: string, v: number): AttrEntry | null {
    const b = this.b;
    const end = this.end;
    let c = b[v]!;
    let q = v;
    let value: Value;
    if (c === C_DQUOTE) {
      q = v + 1;
      for (;;) {
        if (q >= end) return null;
        c = b[q]!;
        if (c === C_DQUOTE) break;
        if (c === C_BACKSLASH) return null;
        q++;
      }
      value = this.s.slice(v + 1, q);
      q++;
      // Adjacent string literals are one (§1.5).
      let w = q;
      while (w < end && is(b[w]!, SPACE)) w++;
      if (w < end && b[w]! === C_DQUOTE) return null;
    } else if (is(c, NAME_START)) {
      q = v + 1;
      while (q < end && is(b[q]!, NAME_CHAR)) q++;
      if (keyword(b, v, q) !== KEYWORD_LITERAL) return null;
      value = keywordValue(b, v);
    } else {
      const negative = c === C_MINUS;
      const digits = negative ? v + 1 : v;
      q = digits;
      let n = 0;
      while (q < end) {
        const d = b[q]!;
        if (d < C_0 || d > C_9) break;
        n = n * 10 + (d - C_0);
        q++;
      }
      const count = q - digits;
      // A leading zero is an error unless after the minus sign (the lexer's rule, §1.2).
      if (count === 0 || count > 15 || (!negative && count > 1 && c === C_0)) return null;
      if (q < end) {
        const d = b[q]!;
        if (d === C_DOT || d === C_E || d === C_LOWER_E || is(d, NAME_CHAR)) return null;
      }
      value = negative && n !== 0 ? -n : n;
    }
    const t = this.blank(q);
    if (t < 0) return null;
    const after = b[t]!;
    if (after !== C_SEMI && after !== C_RBRACKET) return null;
    this.pos = t;
    return new AttrEntry(name, null, value);
  }

  /**
   * An entry for the expression at `v` if it is well formed and ends at a `;` or `]` (`pos`
   * then at that), else null. Its tree is built on first use, except for a lone literal the
   * literal path left (escapes, reals, long integers), which is parsed now for its constant.
   */
  private expressionEntry(name: string, v: number): AttrEntry | null {
    this.pos = v;
    const tokens = this.recognize();
    if (tokens < 0) return null;
    const e = this.start;
    this.pos = e;
    if (tokens === 1 && this.firstLiteral) {
      return new AttrEntry(name, parseRange(this.s, v, e));
    }
    return new AttrEntry(name, null, null, this.s, v, e);
  }

  /** The first token of the last expression recognised was a literal. */
  private firstLiteral = false;

  /**
   * Read one expression from `pos` up to the `;` or `]` that ends an attribute's value (left in
   * `start`). Returns the number of tokens, or -1 when the expression is malformed or beyond
   * what the scanner takes on.
   */
  private recognize(): number {
    const stack = this.stack;
    let depth = 0;
    let state = S.Operand;
    let tokens = 0;
    for (;;) {
      const tok = this.token(state === S.After || state === S.AfterName || state === S.Assign);
      if (tok === K.Bad || ++tokens > MAX_TOKENS) return -1;
      if (tokens === 1) this.firstLiteral = tok === K.Literal;
      switch (state) {
        case S.Arguments:
          if (tok === K.RParen) {
            depth--;
            state = S.After;
            continue;
          }
          break;
        case S.Items:
          if (tok === K.RBrace) {
            depth--;
            state = S.After;
            continue;
          }
          break;
        case S.AdName:
          if (tok === K.Semicolon) continue;
          if (tok === K.RBracket) {
            depth--;
            state = S.After;
          } else if (tok === K.Name || tok === K.QuotedName) {
            state = S.Assign;
          } else {
            return -1;
          }
          continue;
        case S.Assign:
          if (tok !== K.Assign) return -1;
          state = S.Operand;
          continue;
        case S.AfterName:
          if (tok === K.LParen) {
            if (depth === MAX_NESTING) return -1;
            stack[depth++] = Ctx.Call;
            state = S.Arguments;
            continue;
          }
          state = S.After;
          break;
        default:
          break;
      }
      if (state !== S.After) {
        // An operand: Operand, Primary, Arguments or Items.
        switch (tok) {
          case K.Literal:
          case K.QuotedName:
            state = S.After;
            continue;
          case K.Name:
            state = S.AfterName;
            continue;
          case K.Sign:
          case K.Unary:
            if (state === S.Primary) return -1;
            state = S.Operand;
            continue;
          case K.Dot:
            if (!this.selectedName()) return -1;
            state = S.After;
            continue;
          case K.LParen:
          case K.LBrace:
          case K.LBracket:
            if (depth === MAX_NESTING) return -1;
            if (tok === K.LParen) {
              stack[depth++] = Ctx.Paren;
              state = S.Operand;
            } else if (tok === K.LBrace) {
              stack[depth++] = Ctx.List;
              state = S.Items;
            } else {
              stack[depth++] = Ctx.Ad;
              state = S.AdName;
            }
            continue;
          default:
            return -1;
        }
      }
      // After an operand.
      switch (tok) {
        case K.Binary:
        case K.Sign:
          state = S.Operand;
          continue;
        case K.Dot:
          if (!this.selectedName()) return -1;
          continue;
        case K.Elvis:
          state = S.Primary;
          continue;
        case K.LBracket:
        case K.Question:
          if (depth === MAX_NESTING) return -1;
          stack[depth++] = tok === K.LBracket ? Ctx.Subscript : Ctx.Then;
          state = S.Operand;
          continue;
        default:
          break;
      }
      // Anything else ends the expression: every `:` branch open ends with it.
      while (depth > 0 && stack[depth - 1] === Ctx.Else) depth--;
      const open = depth > 0 ? stack[depth - 1]! : -1;
      switch (tok) {
        case K.Colon:
          if (open !== Ctx.Then) return -1;
          stack[depth - 1] = Ctx.Else;
          state = S.Operand;
          continue;
        case K.RParen:
          if (open !== Ctx.Paren && open !== Ctx.Call) return -1;
          depth--;
          continue;
        case K.Comma:
          if (open !== Ctx.Call && open !== Ctx.List) return -1;
          state = S.Operand;
          continue;
        case K.RBrace:
          if (open !== Ctx.List) return -1;
          depth--;
          continue;
        case K.Semicolon:
          if (open === -1) return tokens - 1;
          if (open === Ctx.Call) state = S.Operand;
          else if (open === Ctx.Ad) state = S.AdName;
          else return -1;
          continue;
        case K.RBracket:
          if (open === -1) return tokens - 1;
          if (open !== Ctx.Subscript && open !== Ctx.Ad) return -1;
          depth--;
          continue;
        default:
          return -1;
      }
    }
  }

  /** After a `.`: the name it selects (quoted or not, no keyword). */
  private selectedName(): boolean {
    const tok = this.token(false);
    return tok === K.Name || tok === K.QuotedName;
  }

  /**
   * Read the token after `pos`: its kind, with `start` and `pos` around it. `afterOperand` tells
   * a minus sign from a negative number, as the lexer does (§1.4).
   */
  private token(afterOperand: boolean): K {
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
    if (is(c, NAME_START)) {
      let q = p + 1;
      while (q < end && is(b[q]!, NAME_CHAR)) q++;
      this.pos = q;
      const kw = keyword(b, p, q);
      return kw === KEYWORD_NONE ? K.Name : kw === KEYWORD_LITERAL ? K.Literal : K.Binary;
    }
    if (is(c, DIGIT)) return this.number(p);
    const c1 = p + 1 < end ? b[p + 1] : 0;
    this.pos = p + 1;
    switch (c) {
      case C_DQUOTE:
        return this.string(p);
      case C_SQUOTE:
        return this.quotedName(p);
      case C_DOT:
        return is(c1, DIGIT) ? this.number(p) : K.Dot;
      case C_MINUS:
        if (
          !afterOperand &&
          (is(c1, DIGIT) || (c1 === C_DOT && p + 2 < end && is(b[p + 2]!, DIGIT)))
        ) {
          return this.number(p);
        }
        return K.Sign;
      case C_PLUS:
        return K.Sign;
      case C_BANG:
        if (c1 === C_EQ) this.pos = p + 2;
        return c1 === C_EQ ? K.Binary : K.Unary;
      case C_TILDE:
        return K.Unary;
      case C_STAR:
      case C_SLASH:
      case C_PERCENT:
      case C_CARET:
        return K.Binary;
      case C_AMP:
        if (c1 === C_AMP) this.pos = p + 2;
        return K.Binary;
      case C_PIPE:
        if (c1 === C_PIPE) this.pos = p + 2;
        return K.Binary;
      case C_LT:
        if (c1 === C_EQ || c1 === C_LT) this.pos = p + 2;
        return K.Binary;
      case C_GT:
        if (c1 === C_EQ) this.pos = p + 2;
        else if (c1 === C_GT) this.pos = p + 2 < end && b[p + 2]! === C_GT ? p + 3 : p + 2;
        return K.Binary;
      case C_EQ: {
        if (c1 === C_EQ) {
          this.pos = p + 2;
          return K.Binary;
        }
        const c2 = p + 2 < end ? b[p + 2]! : 0;
        if ((c1 === C_QUESTION || c1 === C_BANG) && c2 === C_EQ) {
          this.pos = p + 3;
          return K.Binary;
        }
        return K.Assign;
      }
      case C_QUESTION: {
        // `?` then optional whitespace then `:` is one elvis token (§1.8).
        let q = p + 1;
        while (q < end && is(b[q]!, SPACE)) q++;
        if (q < end && b[q]! === C_COLON) {
          this.pos = q + 1;
          return K.Elvis;
        }
        return K.Question;
      }
      case C_COLON:
        return K.Colon;
      case C_SEMI:
        return K.Semicolon;
      case C_COMMA:
        return K.Comma;
      case C_LBRACKET:
        return K.LBracket;
      case C_RBRACKET:
        return K.RBracket;
      case C_LPAREN:
        return K.LParen;
      case C_RPAREN:
        return K.RParen;
      case C_LBRACE:
        return K.LBrace;
      case C_RBRACE:
        return K.RBrace;
      default:
        return K.Bad;
    }
  }

  /** A number literal at `p` (after an optional minus), checked as the lexer checks it (§1.2, §1.3). */
  private number(p: number): K {
    const b = this.b;
    const end = this.end;
    let q = p;
    if (b[q]! === C_MINUS) q++;
    while (q < end && is(b[q]!, DIGIT)) q++;
    let isReal = false;
    if (q < end && b[q]! === C_DOT) {
      if (!(q + 1 < end && is(b[q + 1]!, DIGIT))) return K.Bad;
      q++;
      while (q < end && is(b[q]!, DIGIT)) q++;
      isReal = true;
    }
    const e = q < end ? b[q]! : 0;
    if (e === C_E || e === C_LOWER_E) {
      q++;
      const sign = q < end ? b[q]! : 0;
      if (sign === C_PLUS || sign === C_MINUS) q++;
      if (!(q < end && is(b[q]!, DIGIT))) return K.Bad;
      while (q < end && is(b[q]!, DIGIT)) q++;
      isReal = true;
    }
    if (!isReal) {
      if (q < end && is(b[q]!, NAME_CHAR)) return K.Bad;
      if (b[p]! === C_0 && q - p > 1) return K.Bad;
    }
    this.pos = q;
    return K.Literal;
  }

  /** A string literal at `p`, with those adjacent to it (§1.5). */
  private string(p: number): K {
    const b = this.b;
    const end = this.end;
    let q = p;
    for (;;) {
      q = this.quoted(q, C_DQUOTE);
      if (q < 0) return K.Bad;
      let w = q;
      while (w < end && is(b[w]!, SPACE)) w++;
      if (w < end && b[w]! === C_DQUOTE) q = w;
      else break;
    }
    this.pos = q;
    return K.Literal;
  }

  private quotedName(p: number): K {
    const q = this.quoted(p, C_SQUOTE);
    if (q < 0 || q === p + 2) return K.Bad;
    this.pos = q;
    return K.QuotedName;
  }

  /**
   * Past the quoted text opening at `p` (new syntax escapes, §1.5), or -1 when it is unterminated
   * or an octal escape gives a NUL character.
   */
  private quoted(p: number, quote: number): number {
    const b = this.b;
    const end = this.end;
    let q = p + 1;
    while (q < end) {
      const c = b[q]!;
      if (c === quote) return q + 1;
      if (c !== C_BACKSLASH) {
        q++;
        continue;
      }
      q++;
      if (q >= end) return -1;
      const e = b[q]!;
      if (e < C_0 || e > C_7) {
        q++;
        continue;
      }
      let byte = e - C_0;
      q++;
      if (q < end && b[q]! >= C_0 && b[q]! <= C_7) {
        byte = byte * 8 + (b[q]! - C_0);
        q++;
        // A third octal digit is taken only while the value so far is below 0x20.
        if (byte < 0x20 && q < end && b[q]! >= C_0 && b[q]! <= C_7) {
          byte = byte * 8 + (b[q]! - C_0);
          q++;
        }
      }
      if (byte === 0) return -1;
    }
    return -1;
  }
}

/** One scanner, reused: parsing is synchronous and nothing it calls parses an ad. */
const SCANNER = new AdScanner();

/** The attribute entries of `text` if it is a new-syntax ad the scanner takes, else null. */
export function scanAd(text: string): Map<string, AttrEntry> | null {
  const length = text.length;
  if (length > MAX_SCANNED_LENGTH) return null;
  const bytes = length < SCRATCH_LENGTH ? scratch : new Uint8Array(length + 1);
  // Byte reads are several times faster than charCodeAt; in ASCII text each character is one
  // byte at the same offset, and text with anything else (more bytes than characters) is left to
  // the parser. A NUL after the text stops any read one past its end.
  const { read, written } = encoder.encodeInto(text, bytes);
  if (read !== length || written !== length) return null;
  bytes[length] = 0;
  return SCANNER.entries(text, bytes);
}
