/**
 * The fast path of `ClassAd.parse` for an ad in new syntax: one pass over the character codes that
 * builds the attribute map directly, with no token objects and no tree for most attributes.
 *
 * - A value that is one literal (most attributes of a real ad: numbers, strings, booleans)
 *   becomes its entry's constant at once.
 * - Any other expression is checked here to be well formed, by the grammar of parser.ts run over
 *   token kinds alone, and kept as its text range; the tree is built on first use
 *   (`AttrEntry.expr`). So a syntax error is still reported by `parse`, never later. The text an
 *   attribute had in an earlier ad, if this one has it again, is known well formed already
 *   (recognized-texts.ts).
 *
 * The scanner does not report errors itself: whenever it meets something it does not handle
 * (a quoted or repeated attribute name, an escaped or split string literal, a long or deeply
 * nested expression, anything malformed) it gives up, and the full parser parses the whole ad
 * and reports the error with its position. Giving up is always safe; accepting what the parser
 * rejects would not be, which the property tests compare on generated and damaged ads.
 */
import { AttrEntry } from "./attr-entry.js";
import { Ch, Cls, charClasses } from "./chars.js";
import { ATTRIBUTE_NAMES } from "./names.js";
import { parseRange } from "./parser.js";
import { ExpressionRecognizer } from "./scan-grammar.js";
import { RecognizedTexts } from "./recognized-texts.js";
import { Keyword } from "./scan-tokens.js";
import { ERROR, UNDEFINED, type Value } from "./value.js";

/** Character classes of bytes (a module-local table: see chars.ts). */
const CLASS = charClasses();
function is(c: number, cls: number): boolean {
  return (CLASS[c]! & cls) !== 0;
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

/** Reads an ad's attributes: names and literals here, expressions by the recognizer. */
class AdScanner extends ExpressionRecognizer {
  /** Expression text recognised before, by attribute. */
  private readonly recognized = new RecognizedTexts();

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

  /** The entries of the ad, or null to leave the ad to the full parser. */
  private scan(): Map<string, AttrEntry> | null {
    const b = this.b;
    const end = this.end;
    let p = this.blank(0);
    if (p < 0 || b[p]! !== Ch.LBracket) return null;
    p++;
    const entries = new Map<string, AttrEntry>();
    let count = 0;
    for (;;) {
      p = this.blank(p);
      if (p < 0) return null;
      let c = b[p]!;
      while (c === Ch.Semi) {
        p = this.blank(p + 1);
        if (p < 0) return null;
        c = b[p]!;
      }
      if (c === Ch.RBracket) {
        return this.blank(p + 1) === end ? entries : null;
      }
      if (!is(c, Cls.NameStart)) return null;
      let q = p + 1;
      let hash = c;
      for (; ; q++) {
        const d = b[q]!;
        if (!is(d, Cls.NameChar)) break;
        hash = (Math.imul(hash, 31) + d) | 0;
      }
      if (this.keyword(p, q) !== Keyword.None) return null;
      const spelling = ATTRIBUTE_NAMES.intern(this.s, b, p, q, hash);
      const key = ATTRIBUTE_NAMES.key;
      p = this.blank(q);
      if (p < 0 || b[p]! !== Ch.Eq) return null;
      // `==`, `=?=` and `=!=` are operators, not the assignment.
      const next = b[p + 1];
      if (next === Ch.Eq || next === Ch.Question || next === Ch.Bang) return null;
      const v = this.blank(p + 1);
      if (v < 0) return null;
      const entry = this.literalEntry(spelling, v) ?? this.expressionEntry(spelling, key, v);
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
    if (c === Ch.DQuote) {
      q = v + 1;
      for (;;) {
        if (q >= end) return null;
        c = b[q]!;
        if (c === Ch.DQuote) break;
        if (c === Ch.Backslash) return null;
        q++;
      }
      value = this.s.slice(v + 1, q);
      q++;
      // Adjacent string literals are one (§1.5).
      let w = q;
      while (is(b[w]!, Cls.Space)) w++;
      if (w < end && b[w]! === Ch.DQuote) return null;
    } else if (is(c, Cls.NameStart)) {
      q = v + 1;
      while (is(b[q]!, Cls.NameChar)) q++;
      if (this.keyword(v, q) !== Keyword.Literal) return null;
      value = keywordValue(b, v);
    } else {
      const negative = c === Ch.Minus;
      const digits = negative ? v + 1 : v;
      q = digits;
      let n = 0;
      while (q < end) {
        const d = b[q]!;
        if (d < Ch.Zero || d > Ch.Nine) break;
        n = n * 10 + (d - Ch.Zero);
        q++;
      }
      const count = q - digits;
      // A leading zero is an error unless after the minus sign (the lexer's rule, §1.2).
      if (count === 0 || count > 15 || (!negative && count > 1 && c === Ch.Zero)) return null;
      if (q < end) {
        const d = b[q]!;
        if (d === Ch.Dot || d === Ch.UpperE || d === Ch.LowerE || is(d, Cls.NameChar)) return null;
      }
      value = negative && n !== 0 ? -n : n;
    }
    const t = this.blank(q);
    if (t < 0) return null;
    const after = b[t]!;
    if (after !== Ch.Semi && after !== Ch.RBracket) return null;
    this.pos = t;
    return new AttrEntry(name, null, value);
  }

  /**
   * An entry for the expression at `v` if it is well formed and ends at a `;` or `]` (`pos`
   * then at that), else null. Its tree is built on first use, except for a lone literal the
   * literal path left (escapes, reals, long integers), which is parsed now for its constant.
   */
  private expressionEntry(name: string, key: string, v: number): AttrEntry | null {
    const known = this.recognized.get(key);
    if (known !== undefined) {
      const e = v + known.text.length;
      // A slice and `===` compare in native code, far cheaper than the grammar's pass.
      if (e < this.end && this.b[e] === known.terminator && this.s.slice(v, e) === known.text) {
        known.misses = 0;
        return this.entryFor(name, v, e, known.literal);
      }
    }
    this.pos = v;
    const tokens = this.recognize();
    if (tokens < 0) return null;
    const e = this.start;
    const literal = tokens === 1 && this.firstLiteral;
    this.recognized.remember(key, known, this.b, v, e, literal);
    return this.entryFor(name, v, e, literal);
  }

  /** The entry of a well-formed expression at [v, e), with `pos` left at its terminator. */
  private entryFor(name: string, v: number, e: number, literal: boolean): AttrEntry {
    this.pos = e;
    if (literal) return new AttrEntry(name, parseRange(this.s, v, e));
    return new AttrEntry(name, null, null, this.s, v, e);
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
