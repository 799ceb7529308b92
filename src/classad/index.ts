/** The ClassAd language: parse, unparse, evaluate, match, autocluster signatures. */
export type { Expr, BinaryOp, UnaryOp } from "./ast.js";
export { ClassAdParseError } from "./errors.js";
export {
  parseExpression,
  parseExpressionPrefix,
  tryParse,
  type ParseResult,
  MAX_DEPTH,
} from "./parser.js";
export { ClassAd, valueToExpr, isAd, type EvaluateOptions } from "./classad.js";
export { compileExpression, type CompiledExpr } from "./compile.js";
export { STEP_BUDGET, SYSTEM_CLOCK } from "./eval-state.js";
export {
  createEvalBudget,
  describeBound,
  MAX_STRING_LENGTH,
  MAX_LIST_LENGTH,
  type EvalBudget,
  type EvalBound,
} from "./budget.js";
export {
  unparseExpr,
  unparseValue,
  unparseReal,
  unparseName,
  unparseAd,
  type Syntax,
} from "./unparse.js";
export { adsJson, exprJson, exprMarker, objectJson, valueJson } from "./json-form.js";
export { symmetricMatch, requirementsHold, rank, isTrueEquivalent } from "./match.js";
export {
  significantAttributes,
  signature,
  references,
  SPECIAL_NAMES,
  type References,
} from "./autocluster.js";
export { exprEquals, sameValue } from "./equality.js";
export * from "./value.js";
