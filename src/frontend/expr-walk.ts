/**
 * Reading which names an expression selects through a given base (`MY.x`, `TARGET.x`).
 * The engine's references() cannot report `MY.x` for an expression that has no owner ad yet
 * (the frontend's expressions belong to no ad), so the tree is walked here.
 */
import type { Expr } from "../classad/index.js";

function childrenOf(e: Expr): readonly Expr[] {
  switch (e.kind) {
    case "literal":
    case "attr":
      return [];
    case "select":
      return [e.base];
    case "subscript":
      return [e.base, e.index];
    case "unary":
      return [e.operand];
    case "binary":
    case "elvis":
      return [e.left, e.right];
    case "ternary":
      return [e.cond, e.then, e.otherwise];
    case "paren":
      return [e.inner];
    case "call":
      return e.args;
    case "list":
      return e.items;
    case "classad":
      return e.attrs.map(([, v]) => v);
  }
}

export const SELF_BASES: ReadonlySet<string> = new Set(["my", "self"]);
export const TARGET_BASES: ReadonlySet<string> = new Set(["target", "other"]);

/** Add to `out` the lower-cased names selected as `<base>.name` for any of `bases`. */
export function selectedNames(expr: Expr, bases: ReadonlySet<string>, out: Set<string>): void {
  if (expr.kind === "select" && expr.base.kind === "attr") {
    if (bases.has(expr.base.name.toLowerCase())) out.add(expr.name.toLowerCase());
  }
  for (const child of childrenOf(expr)) selectedNames(child, bases, out);
}

/** The operands of top-level `&&`, looking through parentheses, left to right. */
export function conjuncts(expr: Expr): Expr[] {
  if (expr.kind === "paren") {
    const inner = conjuncts(expr.inner);
    return inner.length > 1 ? inner : [expr];
  }
  if (expr.kind === "binary" && expr.op === "&&") {
    return [...conjuncts(expr.left), ...conjuncts(expr.right)];
  }
  return [expr];
}
