/**
 * A ClassAd: attribute names (case-insensitive, first spelling kept for printing) mapped to
 * expressions, compiled lazily on first evaluation and cached on the ad.
 */
import type { AdNode, Expr } from "./ast.js";
import { type CompiledExpr, compileExpression, runCompiled } from "./compile.js";
import { SYSTEM_CLOCK } from "./eval-state.js";
import type { FnContext } from "./functions/index.js";
import { lowerName } from "./names.js";
import { scanAd } from "./ad-scan.js";
import { AttrEntry } from "./attr-entry.js";
import { parseLongForm } from "./long-form.js";
import { type ParseResult, Parser, parseExpression, tryParse, withParser } from "./parser.js";
import { type Syntax, type UnparsableAd, unparseAd, unparseExpr } from "./unparse.js";
import { type ClassAdLike, ListValue, Real, type Value } from "./value.js";

export { AttrEntry };

export interface EvaluateOptions {
  /** Clock for `time()` and `CurrentTime`. */
  ctx?: FnContext;
}

export class ClassAd implements ClassAdLike, UnparsableAd {
  readonly isClassAd = true as const;
  /** The lexically enclosing ad of a nested ad (null for a top-level ad). */
  parent: ClassAd | null = null;
  /** Attributes keyed by lower-case name. */
  readonly entries: Map<string, AttrEntry>;

  constructor(entries?: Map<string, AttrEntry>) {
    this.entries = entries ?? new Map();
  }

  /** Parse an ad: new syntax when the first non-blank character is `[`, else the long form. */
  static parse(text: string): ClassAd {
    let first = 0;
    // An ad most often starts with its `[`: no blank to test.
    if (text.charCodeAt(0) !== 0x5b) while (first < text.length && /\s/.test(text[first]!)) first++;
    if (text.charCodeAt(first) === 0x5b /* [ */) {
      const entries = scanAd(text);
      if (entries !== null) return new ClassAd(entries);
      const node = withParser(text, {}, (p: Parser) => {
        const ad = p.parseAd();
        p.expectEnd();
        return ad;
      });
      return ClassAd.fromNode(node);
    }
    const ad = new ClassAd();
    for (const [name, expr] of parseLongForm(text)) ad.set(name, expr);
    return ad;
  }

  /** Like `parse`, with a parse error as a tagged result instead of an exception. */
  static tryParse(text: string): ParseResult<ClassAd> {
    return tryParse(() => ClassAd.parse(text));
  }

  /** An ad from a parsed `[...]` node. */
  static fromNode(node: AdNode, parent: ClassAd | null = null): ClassAd {
    const attrs = node.attrs;
    let entries = new Map<string, AttrEntry>();
    for (let i = 0; i < attrs.length; i++) {
      const attr = attrs[i]!;
      entries.set(attr[0].toLowerCase(), new AttrEntry(attr[0], attr[1]));
    }
    // A name given twice keeps its first spelling (§1.7): rare, so only then look for earlier ones.
    if (entries.size !== attrs.length) entries = entriesWithRepeats(attrs);
    const ad = new ClassAd(entries);
    ad.parent = parent;
    return ad;
  }

  /** An ad from its wire form: attribute name to expression text (new syntax). */
  static fromJSON(attrs: Readonly<Record<string, string>>): ClassAd {
    const ad = new ClassAd();
    for (const [name, text] of Object.entries(attrs)) ad.set(name, text);
    return ad;
  }

  get size(): number {
    return this.entries.size;
  }

  has(name: string): boolean {
    return this.entries.has(lowerName(name));
  }

  /** The expression of an attribute, if present. */
  getExpr(name: string): Expr | undefined {
    return this.entries.get(lowerName(name))?.expr;
  }

  /**
   * Set an attribute to an expression (a tree, or text to parse). An existing attribute keeps its
   * original spelling (§1.7).
   */
  set(name: string, expr: Expr | string): this {
    const tree = typeof expr === "string" ? sharedExpression(expr) : expr;
    const key = lowerName(name);
    const spelling = this.entries.get(key)?.name ?? name;
    this.entries.set(key, new AttrEntry(spelling, tree));
    return this;
  }

  /** Set an attribute to a value (lists and ads become their literal expressions). */
  setValue(name: string, value: Value): this {
    return this.set(name, valueToExpr(value));
  }

  delete(name: string): boolean {
    return this.entries.delete(lowerName(name));
  }

  /** Attribute names as first spelled. */
  names(): string[] {
    return [...this.entries.values()].map((e) => e.name);
  }

  *attributeExprs(): IterableIterator<readonly [string, Expr]> {
    for (const e of this.entries.values()) yield [e.name, e.expr] as const;
  }

  [Symbol.iterator](): IterableIterator<readonly [string, Expr]> {
    return this.attributeExprs();
  }

  /**
   * Evaluate an attribute as HTCondor's EvalAttr does: in this ad, with `target` as the other ad
   * of a match (and the old-semantics fallback to it for names this ad lacks, §3.2).
   */
  evaluate(name: string, target?: ClassAd | null, options: EvaluateOptions = {}): Value {
    return this.evaluateExpr(attributeReference(name), target, options);
  }

  /**
   * Typed getters: the attribute evaluated in this ad alone, or undefined when it is missing,
   * evaluates to undefined or error, or has another type. No conversions between types
   * (a string "3" is not a number, an integer is not a boolean), as HTCondor's
   * EvaluateAttrString/EvaluateAttrBool do for these kinds.
   */
  getString(name: string, options: EvaluateOptions = {}): string | undefined {
    const v = this.evaluate(name, null, options);
    return typeof v === "string" ? v : undefined;
  }

  /** An integer or real as a JS number (int64 beyond 2^53 loses precision, as a double would). */
  getNumber(name: string, options: EvaluateOptions = {}): number | undefined {
    const v = this.evaluate(name, null, options);
    if (typeof v === "number") return v;
    if (typeof v === "bigint") return Number(v);
    return v instanceof Real ? v.v : undefined;
  }

  /** An integer within JS's safe range; reals and out-of-range integers are undefined. */
  getInteger(name: string, options: EvaluateOptions = {}): number | undefined {
    const v = this.evaluate(name, null, options);
    return typeof v === "number" ? v : undefined;
  }

  getBool(name: string, options: EvaluateOptions = {}): boolean | undefined {
    const v = this.evaluate(name, null, options);
    return typeof v === "boolean" ? v : undefined;
  }

  /** A list whose items are all strings (HTCondor's string lists), else undefined. */
  getStringList(name: string, options: EvaluateOptions = {}): string[] | undefined {
    const v = this.evaluate(name, null, options);
    if (!(v instanceof ListValue)) return undefined;
    const out: string[] = [];
    for (const item of v.items) {
      if (typeof item !== "string") return undefined;
      out.push(item);
    }
    return out;
  }

  /** Evaluate an expression (text, tree or compiled) with this ad as MY and `target` as TARGET. */
  evaluateExpr(
    expr: string | Expr | CompiledExpr,
    target?: ClassAd | null,
    options: EvaluateOptions = {},
  ): Value {
    const compiled = typeof expr === "object" && "fn" in expr ? expr : compileExpression(expr);
    return runCompiled(compiled.fn, this, target ?? null, options.ctx ?? SYSTEM_CLOCK);
  }

  /** `[ a = 1; b = "x" ]` (new syntax) or `Name = expr` lines (old long form). */
  toString(syntax: Syntax = "new"): string {
    return unparseAd(this, syntax);
  }

  /** Wire form: attribute name (as spelled) to expression text (new syntax). */
  toJSON(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const e of this.entries.values()) out[e.name] = unparseExpr(e.expr);
    return out;
  }
}

function entriesWithRepeats(attrs: AdNode["attrs"]): Map<string, AttrEntry> {
  const entries = new Map<string, AttrEntry>();
  for (const [name, expr] of attrs) {
    const key = lowerName(name);
    const earlier = entries.get(key);
    entries.set(key, new AttrEntry(earlier === undefined ? name : earlier.name, expr));
  }
  return entries;
}

/**
 * Trees of short expression texts, shared: ads read from the wire repeat the same few texts
 * (`"GlideClient"`, `8`, a START expression) in every ad, and a tree is never changed once
 * parsed. Long texts (credentials, one-off names) are parsed each time; the table is bounded.
 */
const MAX_SHARED_TEXT = 256;
const MAX_SHARED_TREES = 8192;
let sharedTrees = new Map<string, Expr>();

function sharedExpression(text: string): Expr {
  if (text.length > MAX_SHARED_TEXT) return parseExpression(text);
  let tree = sharedTrees.get(text);
  if (tree === undefined) {
    tree = parseExpression(text);
    if (sharedTrees.size >= MAX_SHARED_TREES) sharedTrees = new Map();
    sharedTrees.set(text, tree);
  }
  return tree;
}

/** Compiled references to an attribute by name, for `evaluate`; bounded like `lowerName`. */
const MAX_REFERENCES = 4096;
const references = new Map<string, CompiledExpr>();

function attributeReference(name: string): CompiledExpr {
  let ref = references.get(name);
  if (ref !== undefined) return ref;
  ref = compileExpression({ kind: "attr", name, absolute: false });
  if (name.length <= 64) {
    if (references.size >= MAX_REFERENCES) references.clear();
    references.set(name, ref);
  }
  return ref;
}

export function isAd(v: Value): v is ClassAd {
  return v instanceof ClassAd;
}

/** The literal expression of a value. */
export function valueToExpr(value: Value): Expr {
  if (value instanceof ListValue) return { kind: "list", items: value.items.map(valueToExpr) };
  if (value instanceof ClassAd) return { kind: "classad", attrs: [...value.attributeExprs()] };
  return { kind: "literal", value };
}
