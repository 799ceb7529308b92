/**
 * Generated ClassAd expression trees, shaped the way the parser builds them: an operand whose
 * operator binds less tightly than its context is wrapped in a parenthesis node, so unparsing and
 * parsing a tree gives it back.
 */
import fc from "fast-check";
import type { BinaryOp, Expr, UnaryOp } from "../../src/classad/ast.js";
import { BINARY_LEVEL } from "../../src/classad/ast.js";
import { ERROR, Real, UNDEFINED } from "../../src/classad/index.js";

export const name = fc.oneof(
  fc
    .stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,6}$/)
    .filter((n) => !/^(true|false|undefined|error|is|isnt)$/i.test(n)),
  fc.constantFrom("a b", "it's", "x-y", "TRUE"),
);
/** Reals that survive the 16 significant digits of %1.15E (dyadic fractions, a few extremes). */
const real = fc
  .oneof(
    fc.integer({ min: -1_000_000, max: 1_000_000 }).map((n) => n / 64),
    fc.constantFrom(-0, 1e300, -2.5e-300, 123456789012345.6),
  )
  .map((x) => new Real(x));
const literal: fc.Arbitrary<Expr> = fc
  .oneof(
    fc.integer({ min: -1_000_000, max: 1_000_000 }),
    fc
      .bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n })
      .filter((b) => b > 2n ** 53n || b < -(2n ** 53n)),
    real,
    fc.string({ unit: "grapheme", maxLength: 8 }),
    fc.boolean(),
    fc.constant(UNDEFINED),
    fc.constant(ERROR),
  )
  .map((value) => ({ kind: "literal", value }));

const BINARY_OPS = Object.keys(BINARY_LEVEL) as BinaryOp[];
const UNARY_OPS: UnaryOp[] = ["-", "+", "!", "~"];

/** Precedence of a node as an operand: 13 postfix/primary, 12 unary, 1-10 binary, 0 ternary. */
function level(e: Expr): number {
  switch (e.kind) {
    case "binary":
      return BINARY_LEVEL[e.op];
    case "ternary":
      return 0;
    case "unary":
      return 11;
    case "elvis":
      return 12;
    default:
      return 13;
  }
}
const paren = (e: Expr, min: number): Expr => (level(e) >= min ? e : { kind: "paren", inner: e });
/** A postfix base: no numeric literal (`5.x` would read as a real). */
const postfixBase = (e: Expr): Expr =>
  e.kind === "literal" && typeof e.value !== "string" ? { kind: "paren", inner: e } : paren(e, 13);

export const { expr } = fc.letrec<{ expr: Expr }>((tie) => ({
  expr: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    literal,
    fc.record({ kind: fc.constant("attr" as const), name, absolute: fc.boolean() }),
    fc
      .tuple(tie("expr"), name)
      .map(([b, n]): Expr => ({ kind: "select", base: postfixBase(b), name: n })),
    fc
      .tuple(tie("expr"), tie("expr"))
      .map(([b, i]): Expr => ({ kind: "subscript", base: postfixBase(b), index: i })),
    fc
      .tuple(fc.constantFrom(...UNARY_OPS), tie("expr"))
      .map(([op, o]): Expr => ({ kind: "unary", op, operand: paren(o, 11) })),
    fc.tuple(fc.constantFrom(...BINARY_OPS), tie("expr"), tie("expr")).map(([op, l, r]): Expr => ({
      kind: "binary",
      op,
      left: paren(l, BINARY_LEVEL[op]),
      right: paren(r, BINARY_LEVEL[op] + 1),
    })),
    fc
      .tuple(tie("expr"), tie("expr"), tie("expr"))
      .map(([c, t, o]): Expr => ({ kind: "ternary", cond: paren(c, 1), then: t, otherwise: o })),
    fc
      .tuple(tie("expr"), tie("expr"))
      .map(([l, r]): Expr => ({ kind: "elvis", left: postfixBase(l), right: paren(r, 12) })),
    tie("expr").map((inner): Expr => ({ kind: "paren", inner })),
    fc
      .tuple(
        fc
          .stringMatching(/^[a-z][a-zA-Z]{0,6}$/)
          .filter((n) => !/^(true|false|undefined|error|is|isnt)$/i.test(n)),
        fc.array(tie("expr"), { maxLength: 3 }),
      )
      .map(([n, args]): Expr => ({ kind: "call", name: n, args })),
    fc.array(tie("expr"), { maxLength: 3 }).map((items): Expr => ({ kind: "list", items })),
    fc
      .uniqueArray(fc.tuple(name, tie("expr")), {
        maxLength: 3,
        selector: ([n]) => n.toLowerCase(),
      })
      .map((attrs): Expr => ({ kind: "classad", attrs })),
  ),
}));
