/**
 * Lower-case keys of attribute names (attribute lookup is case-insensitive), remembered: the
 * same few hundred names recur in every ad a daemon reads and writes. The table is bounded and
 * starts over when full, so hostile input cannot grow it.
 */

/** Longer names are lowered each time (real attribute names are far shorter). */
const MAX_REMEMBERED_LENGTH = 64;
const MAX_KEYS = 4096;
let lowerKeys = new Map<string, string>();

/** `name.toLowerCase()`, remembered for names seen before. */
export function lowerName(name: string): string {
  let key = lowerKeys.get(name);
  if (key !== undefined) return key;
  key = name.toLowerCase();
  if (name.length <= MAX_REMEMBERED_LENGTH) {
    if (lowerKeys.size >= MAX_KEYS) lowerKeys = new Map();
    lowerKeys.set(name, key);
  }
  return key;
}

/**
 * Attribute names read from ad text, by a hash of their characters: a name seen before costs a
 * comparison of bytes, with no string made, and every ad holding it shares one spelling and one
 * key. A cache of fixed size (a collision replaces), so hostile input cannot grow it.
 */
class NameInterner {
  private static readonly SLOTS = 4096;
  private readonly spellings: string[] = new Array<string>(NameInterner.SLOTS).fill("");
  private readonly keys: string[] = new Array<string>(NameInterner.SLOTS).fill("");
  /** Each slot's spelling as bytes, MAX_REMEMBERED_LENGTH apart. */
  private readonly bytes = new Uint8Array(NameInterner.SLOTS * MAX_REMEMBERED_LENGTH);
  /** The key of the name last interned. */
  key = "";

  /**
   * The spelling of the name at `text.slice(p, q)`, an ASCII name whose bytes are `chars[p..q)`;
   * `hash` is of its characters.
   */
  intern(text: string, chars: Uint8Array, p: number, q: number, hash: number): string {
    const slot = hash & (NameInterner.SLOTS - 1);
    const known = this.spellings[slot]!;
    const len = q - p;
    if (known.length === len) {
      const bytes = this.bytes;
      const at = slot * MAX_REMEMBERED_LENGTH - p;
      let i = p;
      while (i < q && bytes[at + i] === chars[i]) i++;
      if (i === q) {
        this.key = this.keys[slot]!;
        return known;
      }
    }
    const spelling = text.slice(p, q);
    this.key = spelling.toLowerCase();
    if (len <= MAX_REMEMBERED_LENGTH) {
      this.spellings[slot] = spelling;
      this.keys[slot] = this.key;
      this.bytes.set(chars.subarray(p, q), slot * MAX_REMEMBERED_LENGTH);
    }
    return spelling;
  }
}

export const ATTRIBUTE_NAMES = new NameInterner();
