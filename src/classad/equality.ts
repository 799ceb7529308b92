/**
 * Structural equality of expressions and values (HTCondor's SameAs): used by tests and by
 * callers that need "these two ads say the same thing".
 */
import type { Expr } from "./ast.js";
import { isAd } from "./classad.js";
import { ListValue, Real, type Value } from "./value.js";

/** Same tree: same shapes, names compared case-insensitively, literals identical. */
export function exprEquals(a: Expr, b: Expr): boolean {
  if (a.kind !== b.kind) return false;
  switch (a.kind) {
    case "literal":
      return literalIdentical(a.value, (b as typeof a).value);
    case "attr": {
      const o = b as typeof a;
      return a.absolute === o.absolute && a.name.toLowerCase() === o.name.toLowerCase();
    }
    case "select": {
      const o = b as typeof a;
      return a.name.toLowerCase() === o.name.toLowerCase() && exprEquals(a.base, o.base);
    }
    case "subscript": {
      const o = b as typeof a;
      return exprEquals(a.base, o.base) && exprEquals(a.index, o.index);
    }
    case "unary": {
      const o = b as typeof a;
      return a.op === o.op && exprEquals(a.operand, o.operand);
    }
    case "binary": {
      const o = b as typeof a;
      return a.op === o.op && exprEquals(a.left, o.left) && exprEquals(a.right, o.right);
    }
    case "elvis": {
      const o = b as typeof a;
      return exprEquals(a.left, o.left) && exprEquals(a.right, o.right);
    }
    case "ternary": {
      const o = b as typeof a;
      return (
        exprEquals(a.cond, o.cond) && exprEquals(a.then, o.then) && exprEquals(a.otherwise, o.otherwise)
      );
    }
    case "paren":
      return exprEquals(a.inner, (b as typeof a).inner);
    case "call": {
      const o = b as typeof a;
      return a.name.toLowerCase() === o.name.toLowerCase() && listEquals(a.args, o.args);
    }
    case "list":
      return listEquals(a.items, (b as typeof a).items);
    case "classad": {
      const o = b as typeof a;
      return (
        a.attrs.length === o.attrs.length &&
        a.attrs.every(
          ([name, e], i) =>
            name.toLowerCase() === o.attrs[i]![0].toLowerCase() && exprEquals(e, o.attrs[i]![1]),
        )
      );
    }
  }
}

function listEquals(a: readonly Expr[], b: readonly Expr[]): boolean {
  return a.length === b.length && a.every((e, i) => exprEquals(e, b[i]!));
}

/** Literal values: same type and same value (reals by bits, so -0.0 differs from 0.0). */
function literalIdentical(a: Value, b: Value): boolean {
  if (a instanceof Real) return b instanceof Real && Object.is(a.v, b.v);
  return a === b;
}

/**
 * Values that are the same (HTCondor's Value::SameAs, used by its functional tests): same type,
 * reals compared with `==` (so NaN differs from itself and 0.0 equals -0.0), strings
 * case-sensitively, lists element by element, ads attribute by attribute (expressions compared
 * structurally).
 */
export function sameValue(a: Value, b: Value): boolean {
  if (a instanceof Real) return b instanceof Real && a.v === b.v;
  if (a instanceof ListValue) {
    return (
      b instanceof ListValue &&
      a.items.length === b.items.length &&
      a.items.every((item, i) => sameValue(item, b.items[i]!))
    );
  }
  if (isAd(a)) {
    if (!isAd(b) || a.size !== b.size) return false;
    for (const [key, entry] of a.entries) {
      const other = b.entries.get(key);
      if (other === undefined || !exprEquals(entry.expr, other.expr)) return false;
    }
    return true;
  }
  if (typeof a === "bigint" || typeof b === "bigint") return a === b;
  return a === b;
}
