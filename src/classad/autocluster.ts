/**
 * Autocluster signatures (SEMANTICS §5.3): the job attributes that slot expressions read decide
 * which jobs are interchangeable for matchmaking; jobs with equal signatures share a cluster.
 */
import type { Expr } from "./ast.js";
import { ClassAd } from "./classad.js";
import { parseExpression } from "./parser.js";
import { unparseExpr } from "./unparse.js";

/** Attribute names an expression reads, split by which ad they come from. */
export interface References {
  /** Names read from the other ad (TARGET.x, OTHER.x, or unscoped names the owner lacks). */
  readonly external: Set<string>;
  /** Names of the owner's own attributes it reads, followed transitively. */
  readonly internal: Set<string>;
}

/**
 * Names with a meaning of their own in the ClassAd language (the scopes and CurrentTime), lower
 * case: never plain attributes of an ad.
 */
export const SPECIAL_NAMES: ReadonlySet<string> = new Set([
  "self",
  "my",
  "target",
  "other",
  "parent",
  "toplevel",
  "root",
  "currenttime",
]);
const SELF_NAMES = new Set(["self", "my"]);
const TARGET_NAMES = new Set(["target", "other"]);

/**
 * The references of `expr` as evaluated in `owner` (null: an expression of no ad, so every
 * unscoped name comes from the other ad). Names are lower-case; like HTCondor's
 * TrimReferenceNames, `TARGET.a.b` counts as `a`.
 */
export function references(expr: Expr, owner: ClassAd | null): References {
  const refs: References = { external: new Set(), internal: new Set() };
  const ownName = (key: string): void => {
    if (owner === null || refs.internal.has(key)) return;
    const own = owner.getExpr(key);
    if (own === undefined) return;
    refs.internal.add(key);
    walk(own);
  };
  const pending: Expr[] = [];
  const walk = (e: Expr): void => {
    pending.push(e);
  };
  const visit = (e: Expr): void => {
    switch (e.kind) {
      case "literal":
        return;
      case "attr": {
        const key = e.name.toLowerCase();
        if (SPECIAL_NAMES.has(key) && !owner?.has(key)) return;
        if (owner?.has(key)) ownName(key);
        else if (!e.absolute) refs.external.add(key);
        return;
      }
      case "select": {
        if (e.base.kind === "attr" && !e.base.absolute) {
          const baseKey = e.base.name.toLowerCase();
          if (TARGET_NAMES.has(baseKey)) {
            refs.external.add(e.name.toLowerCase());
            return;
          }
          if (SELF_NAMES.has(baseKey)) {
            ownName(e.name.toLowerCase());
            return;
          }
        }
        walk(e.base);
        return;
      }
      case "subscript":
        walk(e.base);
        walk(e.index);
        return;
      case "unary":
        walk(e.operand);
        return;
      case "binary":
      case "elvis":
        walk(e.left);
        walk(e.right);
        return;
      case "ternary":
        walk(e.cond);
        walk(e.then);
        walk(e.otherwise);
        return;
      case "paren":
        walk(e.inner);
        return;
      case "call":
        e.args.forEach(walk);
        return;
      case "list":
        e.items.forEach(walk);
        return;
      case "classad":
        for (const [, value] of e.attrs) walk(value);
        return;
    }
  };
  walk(expr);
  // An explicit stack: generated expressions can nest far deeper than the call stack allows.
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) visit(next);
  return refs;
}

/** Names the negotiator never treats as significant (HTCondor's built-in removals). */
const NEVER_SIGNIFICANT = new Set([
  "currenttime",
  "lastheardfrom",
  "submittorprio",
  "totaljobruntime",
  "jobcurrentstartdate",
  "jobstate",
  "mips",
  "kflops",
  "slotid",
  "dslotid",
  "slotpartitionable",
  "slotdynamic",
  "offline",
]);

export interface SignificantOptions {
  /** More names to leave out (HTCondor's REMOVE_SIGNIFICANT_ATTRIBUTES). */
  remove?: Iterable<string>;
}

/**
 * The job attributes that matter for matching against the given slot ads and expressions: the
 * union of what every attribute of every slot ad (list-valued ones skipped) and every extra
 * expression reads from the other ad, minus the names that change without affecting matches.
 * Sorted lower-case names.
 */
export function significantAttributes(
  sources: Iterable<ClassAd | Expr | string>,
  options: SignificantOptions = {},
): string[] {
  const names = new Set<string>();
  const add = (expr: Expr, owner: ClassAd | null): void => {
    for (const name of references(expr, owner).external) names.add(name);
  };
  for (const source of sources) {
    if (source instanceof ClassAd) {
      for (const [, expr] of source.attributeExprs()) if (expr.kind !== "list") add(expr, source);
    } else {
      add(typeof source === "string" ? parseExpression(source) : source, null);
    }
  }
  const removed = new Set([...(options.remove ?? [])].map((n) => n.toLowerCase()));
  return [...names]
    .filter((n) => !NEVER_SIGNIFICANT.has(n) && !n.startsWith("remoteuser") && !removed.has(n))
    .sort();
}

/**
 * A stable key for a job's autocluster: `name=<old-syntax expression>` lines for each
 * significant attribute, plus the job's own attributes those expressions read (so that
 * `RequestMemory = ImageSize * 2` also separates jobs by ImageSize). A missing attribute has
 * an empty value.
 */
export function signature(job: ClassAd, significant: readonly string[]): string {
  const names = new Set(significant.map((n) => n.toLowerCase()));
  for (const name of [...names]) {
    const expr = job.getExpr(name);
    if (expr !== undefined) for (const own of references(expr, job).internal) names.add(own);
  }
  let out = "";
  for (const name of [...names].sort()) {
    const expr = job.getExpr(name);
    out += `${name}=${expr === undefined ? "" : unparseExpr(expr, "old")}\n`;
  }
  return out;
}
