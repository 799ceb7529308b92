/**
 * Attribute reference resolution (SEMANTICS §1.11, §3): lexical scopes of nested ads, the
 * special names, MY/TARGET in a match, and the old-semantics fallback of an unscoped name missing
 * from MY to TARGET.
 */
import { type AttrEntry, type ClassAd, isAd } from "./classad.js";
import { compile } from "./compile.js";
import { type Compiled, type EvalState, MAX_REFERENCE_DEPTH } from "./eval-state.js";
import { ERROR, ListValue, UNDEFINED, type Value } from "./value.js";

/**
 * Evaluate an attribute's expression in the scope of the ad holding it. A reference to an
 * attribute already being evaluated is UNDEFINED (current HTCondor, §3.3).
 */
export function evalEntry(st: EvalState, ad: ClassAd, entry: AttrEntry): Value {
  const constant = entry.constant;
  if (constant !== null) return constant;
  if (entry.busy) return UNDEFINED;
  if (--st.steps < 0 || st.depth >= MAX_REFERENCE_DEPTH) return ERROR;
  const fn = entry.compiled ?? (entry.compiled = compile(entry.expr));
  const saved = st.scope;
  st.scope = ad;
  st.depth++;
  entry.busy = true;
  try {
    return fn(st);
  } finally {
    entry.busy = false;
    st.depth--;
    st.scope = saved;
  }
}

/** Run `fn` with `ad` as the current scope. */
export function evalInScope(st: EvalState, ad: ClassAd, fn: Compiled): Value {
  if (--st.steps < 0 || st.depth >= MAX_REFERENCE_DEPTH) return ERROR;
  const saved = st.scope;
  st.scope = ad;
  st.depth++;
  try {
    return fn(st);
  } finally {
    st.depth--;
    st.scope = saved;
  }
}

/** The ad holding `key`: `ad` or the nearest enclosing ad that has it. */
export function findInChain(ad: ClassAd | null, key: string): ClassAd | null {
  for (let a = ad; a !== null; a = a.parent) {
    if (a.entries.has(key)) return a;
  }
  return null;
}

/** `ad.name`: the attribute of `ad` (or of its enclosing ads), else UNDEFINED. */
export function lookupIn(st: EvalState, ad: ClassAd, key: string): Value {
  for (let a: ClassAd | null = ad; a !== null; a = a.parent) {
    const entry = a.entries.get(key);
    if (entry !== undefined) return evalEntry(st, a, entry);
  }
  return UNDEFINED;
}

/**
 * An unscoped name: the current ad, then its enclosing ads, then (old semantics, §3.2) the
 * other ad of the match; else UNDEFINED.
 */
export function lookupUnscoped(st: EvalState, key: string): Value {
  for (let a: ClassAd | null = st.scope; a !== null; a = a.parent) {
    const entry = a.entries.get(key);
    if (entry !== undefined) return evalEntry(st, a, entry);
  }
  const other = st.otherOf(st.scope);
  if (other !== null) {
    const entry = other.entries.get(key);
    if (entry !== undefined) return evalEntry(st, other, entry);
  }
  return UNDEFINED;
}

/** The entry an unscoped name refers to, with its holder (for `unparse()` and friends). */
export function findUnscoped(
  st: EvalState,
  key: string,
): { ad: ClassAd; entry: AttrEntry } | null {
  for (let a: ClassAd | null = st.scope; a !== null; a = a.parent) {
    const entry = a.entries.get(key);
    if (entry !== undefined) return { ad: a, entry };
  }
  const other = st.otherOf(st.scope);
  const entry = other?.entries.get(key);
  return other && entry ? { ad: other, entry } : null;
}

/** The root of the current scope (what `.name`, `toplevel` and `root` refer to). */
export function rootOf(ad: ClassAd): ClassAd {
  let root = ad;
  while (root.parent !== null) root = root.parent;
  return root;
}

/** `TARGET` / `OTHER`: an attribute of that name if one is in scope, else the other ad. */
export function resolveTarget(st: EvalState, key: string): Value {
  const holder = findInChain(st.scope, key);
  if (holder !== null) return lookupIn(st, holder, key);
  return st.otherOf(st.scope) ?? UNDEFINED;
}

/** `MY` / `self`: an attribute of that name in the current ad, else the current ad. */
export function resolveSelf(st: EvalState, key: string): Value {
  const entry = st.scope.entries.get(key);
  return entry !== undefined ? evalEntry(st, st.scope, entry) : st.scope;
}

/** `base.name` on an evaluated base (§1.11): ad lookup, list projection (§1.12), else ERROR. */
export function selectFrom(st: EvalState, base: Value, key: string): Value {
  if (isAd(base)) return lookupIn(st, base, key);
  if (base instanceof ListValue) {
    const items = base.items;
    const out = new Array<Value>(items.length);
    for (let i = 0; i < items.length; i++) {
      const item = items[i]!;
      out[i] = isAd(item) ? lookupIn(st, item, key) : ERROR;
    }
    return new ListValue(out);
  }
  return base === UNDEFINED ? UNDEFINED : ERROR;
}

/** `base[index]` (§1.12): strict; integer index into a list, string key into an ad. */
export function subscript(st: EvalState, base: Value, index: Value): Value {
  if (base === ERROR || index === ERROR) return ERROR;
  if (base === UNDEFINED || index === UNDEFINED) return UNDEFINED;
  if (base instanceof ListValue) {
    const i = typeof index === "number" ? index : typeof index === "bigint" ? -1 : NaN;
    if (Number.isInteger(i) && i >= 0 && i < base.items.length) return base.items[i]!;
    return ERROR;
  }
  if (isAd(base) && typeof index === "string") return lookupIn(st, base, index.toLowerCase());
  return ERROR;
}
