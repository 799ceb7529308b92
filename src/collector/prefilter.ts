/**
 * Fast rejection for constraints over many ads. A constraint `A && B && C` can only be true when
 * every conjunct is; a conjunct that reads a single attribute and calls nothing (`GLIDEIN_Site ==
 * "X"`, `Memory >= 2048`) has the same result for every ad holding the same literal entry for
 * that attribute. Entries are shared between ads (intern.ts), so each distinct entry is evaluated
 * once per query and every other ad costs one lookup. Ads passing every filter are then evaluated
 * in full, so the answer is exactly the constraint's.
 */
import type { AttrEntry } from "../classad/classad.js";
import {
  ClassAd,
  type Expr,
  compileExpression,
  isTrueEquivalent,
  SPECIAL_NAMES,
} from "../classad/index.js";
import type { FnContext } from "../classad/functions/index.js";
import { TextEntry } from "./intern.js";
import { type ShapeCache, ShapedEntries } from "./shape.js";

let nextFilterId = 1;

export interface ConjunctFilter {
  /** Lower-case name of the one attribute the conjunct reads. */
  readonly key: string;
  /** True when an ad with this entry (undefined: attribute absent) may satisfy the conjunct. */
  passes(entry: AttrEntry | undefined): boolean;
  /** The ad's entry for `key`. */
  entryOf(ad: ClassAd): AttrEntry | undefined;
}

/** Top-level conjuncts of an expression, looking through parentheses. */
function conjuncts(e: Expr, out: Expr[] = []): Expr[] {
  if (e.kind === "paren") return conjuncts(e.inner, out);
  if (e.kind === "binary" && e.op === "&&") {
    conjuncts(e.left, out);
    conjuncts(e.right, out);
  } else out.push(e);
  return out;
}

/** The single plain attribute an expression reads, or undefined if it reads none, several, or calls anything. */
function singleAttribute(e: Expr): string | undefined {
  const names = new Set<string>();
  const walk = (x: Expr): boolean => {
    switch (x.kind) {
      case "literal":
        return true;
      case "attr": {
        const key = x.name.toLowerCase();
        if (x.absolute || SPECIAL_NAMES.has(key)) return false;
        names.add(key);
        return true;
      }
      case "paren":
        return walk(x.inner);
      case "unary":
        return walk(x.operand);
      case "binary":
      case "elvis":
        return walk(x.left) && walk(x.right);
      case "ternary":
        return walk(x.cond) && walk(x.then) && walk(x.otherwise);
      case "list":
        return x.items.every(walk);
      default:
        // Calls (time(), random()...), selections, subscripts and nested ads: evaluate in full.
        return false;
    }
  };
  if (!walk(e) || names.size !== 1) return undefined;
  return [...names][0];
}

export function conjunctFilters(expr: Expr, ctx: FnContext): ConjunctFilter[] {
  const filters: ConjunctFilter[] = [];
  for (const c of conjuncts(expr)) {
    const key = singleAttribute(c);
    if (key === undefined) continue;
    const compiled = compileExpression(c);
    const id = nextFilterId++;
    let absent: boolean | undefined;
    const options = { ctx };
    const judge = (entry: AttrEntry | undefined): boolean => {
      // Evaluated in a one-attribute ad: the conjunct reads nothing else.
      const probe = new ClassAd(entry === undefined ? new Map() : new Map([[key, entry]]));
      return isTrueEquivalent(probe.evaluateExpr(compiled, null, options));
    };
    const cache: ShapeCache = { shape: undefined, pos: -1 };
    filters.push({
      key,
      entryOf: (ad) =>
        ad.entries instanceof ShapedEntries
          ? ad.entries.getCached(cache, key)
          : ad.entries.get(key),
      passes(entry) {
        if (entry === undefined) return (absent ??= judge(undefined));
        // Only literal entries are judged alone: an expression entry may read other attributes.
        if (entry.constant === null || !(entry instanceof TextEntry)) return true;
        // The verdict is kept on the shared entry itself: cheaper than any map at 100,000 ads.
        if (entry.filterId !== id) {
          entry.filterResult = judge(entry);
          entry.filterId = id;
        }
        return entry.filterResult;
      },
    });
  }
  return filters;
}
