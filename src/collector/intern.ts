/**
 * Sharing of attribute entries between stored ads. In a pool most attributes of most ads have the
 * same text (`Arch = "X86_64"`, a Requirements expression every pilot of an entry repeats), so
 * each distinct (name, text) pair is parsed once and every ad holding it points at the same entry,
 * compiled closure included. This is what keeps 100,000 slot ads well under a gigabyte.
 *
 * Sharing an AttrEntry between ads is safe for the collector's single-ad evaluations: the entry's
 * `busy` flag only guards re-entry within one evaluation, which never crosses to another stored
 * ad here (the ClassAd engine shares entries the same way for nested ad literals).
 */
import { AttrEntry } from "../classad/classad.js";
import { ClassAdParseError, parseExpression, type Expr } from "../classad/index.js";

/** An attribute entry that also keeps the text it was parsed from, for answering projections. */
export class TextEntry extends AttrEntry {
  constructor(
    name: string,
    expr: Expr,
    readonly text: string,
  ) {
    super(name, expr);
  }
}

/** One attribute spelling: its lower-case key (shared by every ad) and its known texts. */
interface NameSlot {
  readonly key: string;
  readonly texts: Map<string, TextEntry>;
}

export type InternResult =
  { ok: true; key: string; entry: TextEntry } | { ok: false; message: string };

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

export class AttrInterner {
  private readonly names = new Map<string, NameSlot>();
  private readonly maxNames: number;
  private readonly maxTexts: number;
  /** Parses done (cache misses): for tests and tuning. */
  parses = 0;

  constructor(opts: InternerOptions = {}) {
    this.maxNames = opts.maxNames ?? 20_000;
    this.maxTexts = opts.maxTextsPerName ?? 4096;
  }

  /** The shared entry for `name = text`, parsing the text on first sight. */
  entry(name: string, text: string): InternResult {
    let slot = this.names.get(name);
    if (slot === undefined) {
      if (!isAttributeName(name))
        return { ok: false, message: `'${name}' is not an attribute name` };
      slot = { key: name.toLowerCase(), texts: new Map() };
      // Past the bound, names are still accepted, just not remembered.
      if (this.names.size < this.maxNames) this.names.set(name, slot);
    }
    const hit = slot.texts.get(text);
    if (hit !== undefined) return { ok: true, key: slot.key, entry: hit };
    let expr: Expr;
    try {
      this.parses++;
      expr = parseExpression(text);
    } catch (err) {
      if (err instanceof ClassAdParseError) return { ok: false, message: err.message };
      throw err;
    }
    const entry = new TextEntry(name, expr, text);
    // Values that never repeat (Name, MyAddress) would otherwise grow the table without bound.
    if (slot.texts.size >= this.maxTexts) slot.texts.clear();
    slot.texts.set(text, entry);
    return { ok: true, key: slot.key, entry };
  }

  get nameCount(): number {
    return this.names.size;
  }
}
