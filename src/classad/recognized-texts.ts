/**
 * The expression text each attribute name last had, remembered once the ad scanner found it well
 * formed: the same Requirements, START or Rank recurs in ad after ad, and text seen before needs a
 * comparison instead of a second pass of the grammar.
 *
 * Recognition depends only on the expression's characters and the `;` or `]` that ends it, so
 * the same characters before the same terminator are well formed again, with the same tokens.
 * An attribute whose text keeps changing stops being copied: its remembered text is replaced at
 * its 1st, 2nd, 4th, 8th... miss in a row. Bounded in names and in text length, and copied out of
 * the ad text, so hostile input neither grows it nor pins the ads it came from.
 */

/** Names longer than this (real attribute names are far shorter) are not remembered. */
const MAX_NAME_LENGTH = 64;
/** Longer expression text is recognised each time. */
export const MAX_REMEMBERED_TEXT = 2048;
const MAX_NAMES = 1024;

export interface RecognizedText {
  /** The expression's characters, up to its terminator. */
  text: string;
  /** The character code of the `;` or `]` after it. */
  terminator: number;
  /** The expression is one literal (the scanner parses such an expression at once). */
  literal: boolean;
  /** Misses in a row since the text was last seen. */
  misses: number;
}

const decoder = new TextDecoder();

export class RecognizedTexts {
  private readonly byName = new Map<string, RecognizedText>();

  /** What `key` (a lower-case attribute name) was last recognised as, if anything. */
  get(key: string): RecognizedText | undefined {
    return this.byName.get(key);
  }

  /**
   * The attribute `key` was recognised as the ASCII text `bytes[begin, end)` followed by the
   * terminator `bytes[end]`; `known` is what `get` returned before.
   */
  remember(
    key: string,
    known: RecognizedText | undefined,
    bytes: Uint8Array,
    begin: number,
    end: number,
    literal: boolean,
  ): void {
    if (end - begin > MAX_REMEMBERED_TEXT || key.length > MAX_NAME_LENGTH) return;
    if (known === undefined) {
      if (this.byName.size >= MAX_NAMES) this.byName.clear();
      const text = decoder.decode(bytes.subarray(begin, end));
      this.byName.set(key, { text, terminator: bytes[end]!, literal, misses: 0 });
      return;
    }
    const misses = ++known.misses;
    if ((misses & (misses - 1)) !== 0) return;
    known.text = decoder.decode(bytes.subarray(begin, end));
    known.terminator = bytes[end]!;
    known.literal = literal;
  }
}
