/**
 * Wire attributes to a stored ad, and stored ads back to wire attributes. Every check that names
 * an attribute happens here, so a refusal always says which attribute and why.
 */
import type { AttrEntry } from "../classad/classad.js";
import { ClassAd, unparseExpr, unparseValue } from "../classad/index.js";
import { type AttrInterner, TextEntry } from "./intern.js";

export interface AdLimits {
  maxAdBytes: number;
  maxAttributes: number;
}

/** Attributes the collector sets itself; what a client sends for them is replaced. */
export const COLLECTOR_SET = new Set(["authenticatedidentity", "lastheardfrom"]);

export type BuiltAd =
  | { ok: true; ad: ClassAd; type: string; name: string; lifetime: number | undefined }
  | { ok: false; code: "invalid-argument"; attribute: string; message: string };

function refuse(attribute: string, message: string): BuiltAd {
  return { ok: false, code: "invalid-argument", attribute, message };
}

/**
 * Check and parse one advertised ad. `defaultType` becomes MyType when the ad has none. Name
 * and MyType must be strings; ClassAdLifetime, when present, a positive integer (seconds).
 */
export function buildAd(
  attrs: Readonly<Record<string, string>>,
  defaultType: string,
  interner: AttrInterner,
  limits: AdLimits,
): BuiltAd {
  const entries = new Map<string, AttrEntry>();
  let bytes = 0;
  for (const name in attrs) {
    const text = attrs[name]!;
    bytes += name.length + text.length;
    if (bytes > limits.maxAdBytes) {
      return refuse(name, `ad is larger than ${limits.maxAdBytes} bytes (at attribute ${name})`);
    }
    if (entries.size >= limits.maxAttributes) {
      return refuse(name, `ad has more than ${limits.maxAttributes} attributes`);
    }
    const r = interner.entry(name, text);
    if (!r.ok) return refuse(name, `attribute ${name}: ${r.message}`);
    if (!COLLECTOR_SET.has(r.key)) entries.set(r.key, r.entry);
  }
  if (!entries.has("mytype") && defaultType !== "") {
    const r = interner.entry("MyType", unparseValue(defaultType));
    if (r.ok) entries.set(r.key, r.entry);
  }
  const ad = new ClassAd(entries);
  const type = stringAttribute(ad, "MyType");
  if (type === undefined)
    return refuse("MyType", "MyType is missing or not a string (give the ad type)");
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(type))
    return refuse("MyType", `MyType '${type}' is not a type name`);
  const name = stringAttribute(ad, "Name");
  if (name === undefined || name === "")
    return refuse("Name", "Name is missing or not a non-empty string");
  let lifetime: number | undefined;
  if (entries.has("classadlifetime")) {
    const v = ad.evaluate("ClassAdLifetime");
    if (typeof v !== "number" || !Number.isInteger(v) || v <= 0) {
      return refuse(
        "ClassAdLifetime",
        "ClassAdLifetime must be a positive whole number of seconds",
      );
    }
    lifetime = v;
  }
  return { ok: true, ad, type, name, lifetime };
}

function stringAttribute(ad: ClassAd, name: string): string | undefined {
  const entry = ad.entries.get(name.toLowerCase());
  if (entry === undefined) return undefined;
  // Almost always a literal: skip compiling an evaluation for it.
  const v = entry.constant ?? ad.evaluate(name);
  return typeof v === "string" ? v : undefined;
}

/** Set a collector-owned attribute (shared entry when the text repeats, as LastHeardFrom does). */
export function stamp(ad: ClassAd, interner: AttrInterner, name: string, text: string): void {
  const r = interner.entry(name, text);
  if (!r.ok) throw new Error(`collector attribute ${name}: ${r.message}`);
  ad.entries.set(r.key, r.entry);
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
