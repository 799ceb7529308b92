/**
 * Property: unparsing then parsing gives back the same tree, in the new syntax and the old one.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import type { Expr } from "../../src/classad/ast.js";
import { exprEquals, parseExpression, unparseExpr } from "../../src/classad/index.js";
import { Parser } from "../../src/classad/parser.js";
import { expr } from "./expr-arbitrary.js";

test("parse(unparse(e)) is e, and unparsing again gives the same text (new syntax)", () => {
  fc.assert(
    fc.property(expr, (e) => {
      const text = unparseExpr(e);
      const back = parseExpression(text);
      assert.ok(exprEquals(back, e), `round trip changed ${text} into ${unparseExpr(back)}`);
      assert.equal(unparseExpr(back), text);
    }),
    { numRuns: 2000 },
  );
});

/**
 * Old syntax has no escapes but `\"`: a string holding a backslash or a line break cannot be
 * written unambiguously, so such trees are left out.
 */
function oldSyntaxSafe(e: Expr): boolean {
  let safe = true;
  const visit = (node: unknown): void => {
    if (typeof node === "string" && /[\\\n\r]/.test(node)) safe = false;
    else if (Array.isArray(node)) node.forEach(visit);
    else if (typeof node === "object" && node !== null) Object.values(node).forEach(visit);
  };
  visit(e);
  return safe;
}

test("old syntax text reads back with old string rules to the same tree", () => {
  fc.assert(
    fc.property(expr.filter(oldSyntaxSafe), (e) => {
      const text = unparseExpr(e, "old");
      const back = new Parser(text, { oldStrings: true }).parseExpression();
      assert.ok(exprEquals(back, e), `old round trip changed ${text}`);
    }),
    { numRuns: 1000 },
  );
});
