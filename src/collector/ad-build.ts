/**
 * Received attributes to a stored ad, and stored ads back to wire attributes. Every check that
 * names an attribute happens here, so a refusal always says which attribute and why.
 *
 * Ads arrive as byte ranges (wire-batch.ts). Each attribute is looked up in the interner; a text
 * not seen before is compared with the same attribute of the ad being replaced (a slot's Name or
 * address repeats from one update to the next, but not between slots), and only then parsed.
 */
import { COMMON } from "../ads/names.js";
import type { AttrEntry } from "../classad/classad.js";
import { ClassAd, unparseExpr, unparseValue } from "../classad/index.js";
import {
  type AttrInterner,
  type NameSlot,
  TextEntry,
  decodeUtf8,
  hashBytes,
  sameText,
} from "./intern.js";
import { type Shape, ShapedEntries, ShapeTree } from "./shape.js";
import type { RawBatch } from "./wire-batch.js";

export interface AdLimits {
  maxAdBytes: number;
  maxAttributes: number;
}

/** Attributes the collector sets itself; what a client sends for them is replaced. */
export const COLLECTOR_SET = new Set(["authenticatedidentity", "lastheardfrom"]);

export type BuiltAd =
  | { ok: true; ad: ClassAd; type: string; name: string; lifetime: number | undefined }
  | { ok: false; code: "invalid-argument"; attribute: string; message: string };

function refuse(attribute: string, message: string): BuiltAd & { ok: false } {
  return { ok: false, code: "invalid-argument", attribute, message };
}

/** Finds the ad an incoming one would replace, to reuse its unchanged entries. */
export type PreviousAd = (type: string, name: string) => ClassAd | undefined;

interface Miss {
  pos: number;
  slot: NameSlot;
  start: number;
  end: number;
}

function validSlot(
  interner: AttrInterner,
  buf: Uint8Array,
  start: number,
  end: number,
): NameSlot | string {
  try {
    return interner.slotBytes(buf, start, end);
  } catch {
    return "an attribute name that is not valid UTF-8";
  }
}

export class AdBuilder {
  readonly shapes = new ShapeTree();

  constructor(
    private readonly interner: AttrInterner,
    private readonly limits: AdLimits,
  ) {}

  /** Ad `i` of a received batch. */
  fromBatch(batch: RawBatch, i: number, defaultType: string, previous: PreviousAd): BuiltAd {
    const { buf, ranges } = batch;
    const from = batch.adStarts[i]!;
    const to = batch.adStarts[i + 1]!;
    let bytes = 0;
    for (let j = from; j < to; j++) {
      const r = 4 * j;
      bytes += ranges[r + 1]! - ranges[r]! + ranges[r + 3]! - ranges[r + 2]!;
      if (bytes > this.limits.maxAdBytes) {
        const name = decodeUtf8(buf, ranges[r]!, ranges[r + 1]!);
        return refuse(
          name,
          `ad is larger than ${this.limits.maxAdBytes} bytes (at attribute ${name})`,
        );
      }
    }
    if (to - from > this.limits.maxAttributes) {
      const r = 4 * (from + this.limits.maxAttributes);
      const name = decodeUtf8(buf, ranges[r]!, ranges[r + 1]!);
      return refuse(name, `ad has more than ${this.limits.maxAttributes} attributes (at ${name})`);
    }
    // The ad this one probably replaces: most of its entries come back unchanged and in the same
    // order, so each is confirmed by comparing bytes, with no hashing and no lookup.
    const hint = this.hintOf(batch, from, to, defaultType, previous);
    const oldEntries = hint?.entries instanceof ShapedEntries ? hint.entries : undefined;
    let shape: Shape = this.shapes.root;
    const vals: AttrEntry[] = [];
    const misses: Miss[] = [];
    for (let j = from; j < to; j++) {
      const r = 4 * j;
      const start = ranges[r + 2]!;
      const end = ranges[r + 3]!;
      let key: string | undefined;
      let entry: AttrEntry | undefined;
      let slot: NameSlot | string | undefined;
      const before = oldEntries?.valueAt(vals.length);
      if (before instanceof TextEntry && sameText(buf, ranges[r]!, ranges[r + 1]!, before.name)) {
        key = oldEntries!.keyAt(vals.length)!;
        if (sameText(buf, start, end, before.text)) entry = before;
      }
      if (entry === undefined) {
        slot = validSlot(this.interner, buf, ranges[r]!, ranges[r + 1]!);
        if (typeof slot === "string") {
          return refuse(decodeUtf8(buf, ranges[r]!, ranges[r + 1]!), `attribute name ${slot}`);
        }
        key = slot.key;
        entry = this.interner.findBytes(slot, buf, start, end);
      }
      if (COLLECTOR_SET.has(key!)) continue;
      let pos = shape.index.get(key!);
      if (pos === undefined) {
        pos = vals.length;
        shape = shape.with(key!);
        vals.push(MISSING);
      }
      if (entry !== undefined) vals[pos] = entry;
      else misses.push({ pos, slot: slot as NameSlot, start, end });
    }
    // Type and name first: they say which ad this replaces.
    for (const m of misses) {
      if (m.slot.key !== "name" && m.slot.key !== "mytype") continue;
      const failed = this.resolve(m, buf, vals, undefined);
      if (failed) return failed;
    }
    const head = identify(shape, vals, defaultType);
    if (!head.ok) return head;
    // The hint was found by the same literal MyType and Name, so it is the ad being replaced.
    const old = hint ?? (misses.length > 0 ? previous(head.type, head.name) : undefined);
    for (const m of misses) {
      if (vals[m.pos] !== MISSING) continue;
      const failed = this.resolve(m, buf, vals, old);
      if (failed) return failed;
    }
    return this.finish(shape, vals, head.type, head.name, defaultType);
  }

  /**
   * The stored ad with this ad's MyType and Name when both are plain string literals. Only a hint
   * for reusing entries (each is still compared byte for byte); the real identity comes later.
   */
  private hintOf(
    batch: RawBatch,
    from: number,
    to: number,
    defaultType: string,
    previous: PreviousAd,
  ): ClassAd | undefined {
    const { buf, ranges } = batch;
    let name: string | undefined;
    let type = defaultType;
    for (let j = from; j < to; j++) {
      const r = 4 * j;
      const len = ranges[r + 1]! - ranges[r]!;
      if (len === 4 && sameTextCaseless(buf, ranges[r]!, "name")) {
        name = plainString(buf, ranges[r + 2]!, ranges[r + 3]!);
      } else if (len === 6 && sameTextCaseless(buf, ranges[r]!, "mytype")) {
        type = plainString(buf, ranges[r + 2]!, ranges[r + 3]!) ?? "";
      }
    }
    return name === undefined || type === "" ? undefined : previous(type, name);
  }

  /** An ad given as name -> text strings (snapshots, the collector's own ad). */
  fromAttrs(attrs: Readonly<Record<string, string>>, defaultType: string, limited = true): BuiltAd {
    let shape: Shape = this.shapes.root;
    const vals: AttrEntry[] = [];
    let bytes = 0;
    let count = 0;
    for (const name in attrs) {
      const text = attrs[name]!;
      bytes += Buffer.byteLength(name) + Buffer.byteLength(text);
      if (limited && bytes > this.limits.maxAdBytes) {
        return refuse(
          name,
          `ad is larger than ${this.limits.maxAdBytes} bytes (at attribute ${name})`,
        );
      }
      if (limited && ++count > this.limits.maxAttributes) {
        return refuse(
          name,
          `ad has more than ${this.limits.maxAttributes} attributes (at ${name})`,
        );
      }
      const r = this.interner.named(name, text);
      if (!r.ok) return refuse(name, `attribute ${name}: ${r.message}`);
      if (COLLECTOR_SET.has(r.slot.key)) continue;
      const pos = shape.index.get(r.slot.key);
      if (pos !== undefined) vals[pos] = r.entry;
      else {
        shape = shape.with(r.slot.key);
        vals.push(r.entry);
      }
    }
    const head = identify(shape, vals, defaultType);
    if (!head.ok) return head;
    return this.finish(shape, vals, head.type, head.name, defaultType);
  }

  private resolve(
    m: Miss,
    buf: Uint8Array,
    vals: AttrEntry[],
    old: ClassAd | undefined,
  ): BuiltAd | undefined {
    const before = old?.entries.get(m.slot.key);
    if (before instanceof TextEntry && sameText(buf, m.start, m.end, before.text)) {
      vals[m.pos] = before;
      return undefined;
    }
    let text: string;
    try {
      text = decodeUtf8(buf, m.start, m.end);
    } catch {
      return refuse(m.slot.spelling, `attribute ${m.slot.spelling}: not valid UTF-8`);
    }
    const entry = this.interner.entry(m.slot, text, hashBytes(buf, m.start, m.end));
    if (typeof entry === "string")
      return refuse(m.slot.spelling, `attribute ${m.slot.spelling}: ${entry}`);
    vals[m.pos] = entry;
    return undefined;
  }

  private finish(
    shape: Shape,
    vals: AttrEntry[],
    type: string,
    name: string,
    defaultType: string,
  ): BuiltAd {
    const entries = new ShapedEntries(shape, vals);
    if (!shape.index.has("mytype") && defaultType !== "") {
      const r = this.interner.named(COMMON.MyType, unparseValue(defaultType));
      if (r.ok) entries.set(r.slot.key, r.entry);
    }
    const ad = new ClassAd(entries);
    let lifetime: number | undefined;
    if (shape.index.has("classadlifetime")) {
      const v = ad.evaluate(COMMON.ClassAdLifetime);
      if (typeof v !== "number" || !Number.isInteger(v) || v <= 0) {
        return refuse(
          COMMON.ClassAdLifetime,
          "ClassAdLifetime must be a positive whole number of seconds",
        );
      }
      lifetime = v;
    }
    return { ok: true, ad, type, name, lifetime };
  }

  /** A collector-owned attribute, resolved once and then set on many ads with `apply`. */
  stamp(name: string, text: string): Stamp {
    const r = this.interner.named(name, text);
    if (!r.ok) throw new Error(`collector attribute ${name}: ${r.message}`);
    return { key: r.slot.key, entry: r.entry };
  }
}

export interface Stamp {
  key: string;
  entry: TextEntry;
}

export function applyStamp(ad: ClassAd, stamp: Stamp): void {
  ad.entries.set(stamp.key, stamp.entry);
}

/** True when the bytes at `start` spell `lower` (ASCII, any case). */
function sameTextCaseless(buf: Uint8Array, start: number, lower: string): boolean {
  for (let i = 0; i < lower.length; i++) {
    if ((buf[start + i]! | 0x20) !== lower.charCodeAt(i)) return false;
  }
  return true;
}

/** The contents of a `"..."` literal without escapes or non-ASCII, else undefined. */
function plainString(buf: Uint8Array, start: number, end: number): string | undefined {
  if (end - start < 2 || buf[start] !== 0x22 || buf[end - 1] !== 0x22) return undefined;
  for (let i = start + 1; i < end - 1; i++) {
    const b = buf[i]!;
    if (b === 0x5c || b === 0x22 || b >= 0x80) return undefined;
  }
  return decodeUtf8(buf, start + 1, end - 1);
}

/** Placeholder while an attribute's entry is being resolved. */
const MISSING = new TextEntry("", { kind: "literal", value: "" }, "");

const TYPE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

function identify(
  shape: Shape,
  vals: readonly AttrEntry[],
  defaultType: string,
): { ok: true; type: string; name: string } | (BuiltAd & { ok: false }) {
  const typeAt = shape.index.get("mytype");
  const type = typeAt === undefined ? defaultType : literalString(vals[typeAt]!);
  if (type === undefined || type === "") {
    return refuse(COMMON.MyType, "MyType is missing or not a string literal (give the ad type)");
  }
  if (!TYPE_NAME.test(type)) return refuse(COMMON.MyType, `MyType '${type}' is not a type name`);
  const nameAt = shape.index.get("name");
  const name = nameAt === undefined ? undefined : literalString(vals[nameAt]!);
  if (name === undefined || name === "") {
    return refuse(COMMON.Name, "Name is missing or not a non-empty string literal");
  }
  return { ok: true, type, name };
}

function literalString(entry: AttrEntry): string | undefined {
  return typeof entry.constant === "string" ? entry.constant : undefined;
}

/** The text of an entry: as received when kept, else unparsed. */
function textOf(entry: AttrEntry): string {
  return entry instanceof TextEntry ? entry.text : unparseExpr(entry.expr);
}

/** Wire form of a stored ad, whole or restricted to `projection` (names not held are omitted). */
export function projectAd(ad: ClassAd, projection: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  if (projection.length === 0) {
    for (const entry of ad.entries.values()) out[entry.name] = textOf(entry);
    return out;
  }
  for (const name of projection) {
    const entry = ad.entries.get(name.toLowerCase());
    if (entry !== undefined) out[entry.name] = textOf(entry);
  }
  return out;
}

/** Approximate wire size of a projected ad, for paging answers. */
export function wireSize(attrs: Readonly<Record<string, string>>): number {
  let n = 4;
  for (const k in attrs) n += k.length + attrs[k]!.length + 6;
  return n;
}
