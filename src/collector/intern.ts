/**
 * Sharing of attribute entries between stored ads. In a pool most attributes of most ads have the
 * same text (`Arch = "X86_64"`, a Requirements expression every pilot of an entry repeats), so
 * each distinct (name, text) pair is parsed once and every ad holding it points at the same entry,
 * compiled closure included. Lookups work on the received bytes: a repeated attribute costs a hash
 * and a comparison, with no string made and nothing parsed.
 *
 * Sharing an AttrEntry between ads is safe for the collector's single-ad evaluations: the entry's
 * `busy` flag only guards re-entry within one evaluation, which never crosses to another stored
 * ad here (the ClassAd engine shares entries the same way for nested ad literals).
 */
import { hasErrorCode } from "../common/errors.js";
import { AttrEntry } from "../classad/classad.js";
import { parseExpression, type Expr } from "../classad/index.js";

/** An attribute entry that also keeps the text it was parsed from, for answering projections. */
export class TextEntry extends AttrEntry {
  /** Which query filter last judged this entry, and its verdict (see prefilter.ts). */
  filterId = 0;
  filterResult = false;

  constructor(
    name: string,
    expr: Expr,
    readonly text: string,
  ) {
    super(name, expr);
  }
}

/** One attribute spelling: its lower-case key (one string shared by every ad) and known texts. */
export class NameSlot {
  /** Entries by the hash of their text's bytes; a collision just replaces (it is a cache). */
  readonly texts = new Map<number, TextEntry>();

  constructor(
    readonly spelling: string,
    readonly key: string,
  ) {}
}

export type InternResult =
  { ok: true; slot: NameSlot; entry: TextEntry } | { ok: false; message: string };

export interface InternerOptions {
  /** Most attribute spellings remembered; rarer names beyond it are parsed without sharing. */
  maxNames?: number;
  /** Most texts remembered per name; a name whose values are all different cycles through. */
  maxTextsPerName?: number;
}

const ATTRIBUTE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function isAttributeName(name: string): boolean {
  return ATTRIBUTE_NAME.test(name);
}

/**
 * A cheap hash of a byte range: its length and at most its first and last eight bytes. A cache
 * key only, always confirmed by a full comparison; texts that differ only in the middle collide
 * and just miss. Hashing every byte cost more than the rest of an update on slow cores.
 */
export function hashBytes(buf: Uint8Array, start: number, end: number): number {
  let h = Math.imul(end - start, 0x9e3779b1);
  const head = Math.min(end, start + 8);
  for (let i = start; i < head; i++) h = Math.imul(h ^ buf[i]!, 0x01000193);
  for (let i = Math.max(head, end - 8); i < end; i++) h = Math.imul(h ^ buf[i]!, 0x01000193);
  return h;
}

/** The same hash over a string's UTF-8 bytes. */
export function hashText(text: string): number {
  for (let i = 0; i < text.length; i++) {
    if (text.charCodeAt(i) >= 0x80) {
      const bytes = Buffer.from(text, "utf8");
      return hashBytes(bytes, 0, bytes.length);
    }
  }
  const end = text.length;
  let h = Math.imul(end, 0x9e3779b1);
  const head = Math.min(end, 8);
  for (let i = 0; i < head; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  for (let i = Math.max(head, end - 8); i < end; i++)
    h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h;
}

/** True when `text` is exactly the UTF-8 bytes `buf[start, end)`. */
export function sameText(buf: Uint8Array, start: number, end: number, text: string): boolean {
  const n = end - start;
  if (text.length > n) return false;
  if (text.length === n) {
    // Compare from the end: values of one attribute share prefixes ("slot1@glidein_...").
    let i = n - 1;
    for (; i >= 0; i--) {
      const b = buf[start + i]!;
      if (b >= 0x80) break;
      if (b !== text.charCodeAt(i)) return false;
    }
    if (i < 0) return true;
  }
  return decodeUtf8(buf, start, end) === text;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

export function decodeUtf8(buf: Uint8Array, start: number, end: number): string {
  return utf8.decode(buf.subarray(start, end));
}

export class AttrInterner {
  private readonly names = new Map<number, NameSlot>();
  private readonly maxNames: number;
  private readonly maxTexts: number;
  /** Texts parsed (cache misses): for tests and tuning. */
  parses = 0;

  constructor(opts: InternerOptions = {}) {
    this.maxNames = opts.maxNames ?? 20_000;
    this.maxTexts = opts.maxTextsPerName ?? 4096;
  }

  /** The slot of a spelling given as bytes (received) or as a string. */
  slotBytes(buf: Uint8Array, start: number, end: number): NameSlot | string {
    const h = hashBytes(buf, start, end);
    const hit = this.names.get(h);
    if (hit !== undefined && sameText(buf, start, end, hit.spelling)) return hit;
    return this.addSlot(h, decodeUtf8(buf, start, end));
  }

  slot(name: string): NameSlot | string {
    const h = hashText(name);
    const hit = this.names.get(h);
    if (hit !== undefined && hit.spelling === name) return hit;
    return this.addSlot(h, name);
  }

  /** A new slot, or the reason the name is refused. */
  private addSlot(hash: number, name: string): NameSlot | string {
    if (!isAttributeName(name)) return `'${name}' is not an attribute name`;
    const slot = new NameSlot(name, name.toLowerCase());
    // Past the bound, names are still accepted, just not remembered.
    if (this.names.size < this.maxNames) this.names.set(hash, slot);
    return slot;
  }

  /** The entry remembered for `slot = bytes`, if any: no string is made on a hit. */
  findBytes(slot: NameSlot, buf: Uint8Array, start: number, end: number): TextEntry | undefined {
    const hit = slot.texts.get(hashBytes(buf, start, end));
    return hit !== undefined && sameText(buf, start, end, hit.text) ? hit : undefined;
  }

  /** The shared entry for `slot = text`, parsing the text on first sight. */
  entry(slot: NameSlot, text: string, hash = hashText(text)): TextEntry | string {
    const hit = slot.texts.get(hash);
    if (hit !== undefined && hit.text === text) return hit;
    let expr: Expr;
    try {
      this.parses++;
      expr = parseExpression(text);
    } catch (err) {
      if (hasErrorCode(err, "classad-syntax")) return err.message;
      throw err;
    }
    const entry = new TextEntry(slot.spelling, expr, text);
    this.remember(slot, hash, entry);
    return entry;
  }

  /** Remember an entry found elsewhere (the ad it replaces) so later ads find it directly. */
  remember(slot: NameSlot, hash: number, entry: TextEntry): void {
    // Values that never repeat (Name, MyAddress) would otherwise grow the table without bound.
    if (slot.texts.size >= this.maxTexts) slot.texts.clear();
    slot.texts.set(hash, entry);
  }

  /** Convenience for collector-made attributes: name and text as strings. */
  named(name: string, text: string): InternResult {
    const slot = this.slot(name);
    if (typeof slot === "string") return { ok: false, message: slot };
    const entry = this.entry(slot, text);
    return typeof entry === "string" ? { ok: false, message: entry } : { ok: true, slot, entry };
  }

  get nameCount(): number {
    return this.names.size;
  }
}
