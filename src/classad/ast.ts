/**
 * The syntax tree of ClassAd expressions. Parentheses are kept as nodes (as HTCondor does) so that
 * unparsing reproduces the text's grouping, and `parse(unparse(e))` gives back `e`.
 */
import type { Value } from "./value.js";

export type UnaryOp = "-" | "+" | "!" | "~";

export type BinaryOp =
  | "||"
  | "&&"
  | "|"
  | "^"
  | "&"
  | "=="
  | "!="
  | "=?="
  | "=!="
  | "<"
  | "<="
  | ">"
  | ">="
  | "<<"
  | ">>"
  | ">>>"
  | "+"
  | "-"
  | "*"
  | "/"
  | "%";

/** A literal holds a scalar: undefined, error, boolean, integer, real or string. */
export interface LiteralNode {
  readonly kind: "literal";
  readonly value: Value;
}
/** `name` (or `.name` when absolute: looked up from the root scope). */
export interface AttrNode {
  readonly kind: "attr";
  readonly name: string;
  readonly absolute: boolean;
}
/** `base.name` */
export interface SelectNode {
  readonly kind: "select";
  readonly base: Expr;
  readonly name: string;
}
/** `base[index]` */
export interface SubscriptNode {
  readonly kind: "subscript";
  readonly base: Expr;
  readonly index: Expr;
}
export interface UnaryNode {
  readonly kind: "unary";
  readonly op: UnaryOp;
  readonly operand: Expr;
}
export interface BinaryNode {
  readonly kind: "binary";
  readonly op: BinaryOp;
  readonly left: Expr;
  readonly right: Expr;
}
/** `cond ? then : otherwise` */
export interface TernaryNode {
  readonly kind: "ternary";
  readonly cond: Expr;
  readonly then: Expr;
  readonly otherwise: Expr;
}
/** `left ?: right` (elvis): left unless it is UNDEFINED. */
export interface ElvisNode {
  readonly kind: "elvis";
  readonly left: Expr;
  readonly right: Expr;
}
export interface ParenNode {
  readonly kind: "paren";
  readonly inner: Expr;
}
export interface CallNode {
  readonly kind: "call";
  readonly name: string;
  readonly args: readonly Expr[];
}
export interface ListNode {
  readonly kind: "list";
  readonly items: readonly Expr[];
}
/** A nested ad `[ a = 1; b = 2 ]`; attributes in source order, later duplicates replace earlier. */
export interface AdNode {
  readonly kind: "classad";
  readonly attrs: readonly (readonly [name: string, expr: Expr])[];
}

export type Expr =
  | LiteralNode
  | AttrNode
  | SelectNode
  | SubscriptNode
  | UnaryNode
  | BinaryNode
  | TernaryNode
  | ElvisNode
  | ParenNode
  | CallNode
  | ListNode
  | AdNode;

/**
 * Binding strength of binary operators, SEMANTICS §2.1 (higher binds tighter). All are left
 * associative.
 */
export const BINARY_LEVEL: Readonly<Record<BinaryOp, number>> = {
  "||": 1,
  "&&": 2,
  "|": 3,
  "^": 4,
  "&": 5,
  "==": 6,
  "!=": 6,
  "=?=": 6,
  "=!=": 6,
  "<": 7,
  "<=": 7,
  ">": 7,
  ">=": 7,
  "<<": 8,
  ">>": 8,
  ">>>": 8,
  "+": 9,
  "-": 9,
  "*": 10,
  "/": 10,
  "%": 10,
};
