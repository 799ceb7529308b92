/**
 * Functions that need unevaluated arguments or the evaluator itself (SEMANTICS §4.2, §4.7, §4.9):
 * `ifThenElse` (lazy branches), `eval`, `unparse`, `evalInEachContext`, `countMatches`.
 * Everything else is a strict builtin in ./functions/.
 */
import type { Expr } from "./ast.js";
import { isAd } from "./classad.js";
import type { Compiled, EvalState } from "./eval-state.js";
import * as ops from "./operators.js";
import { parseExpression } from "./parser.js";
import { evalInScope, findUnscoped } from "./scope.js";
import { unparseExpr, unparseValue } from "./unparse.js";
import { ERROR, ListValue, UNDEFINED, type Value } from "./value.js";

export type SpecialForm = (args: readonly Expr[], compile: (e: Expr) => Compiled) => Compiled;

const alwaysError: Compiled = () => ERROR;

/** ifThenElse(c, a, b): only the chosen branch is evaluated (§4.2). */
const ifThenElse: SpecialForm = (args, compile) => {
  if (args.length !== 3) return alwaysError;
  const [cond, then, otherwise] = args.map(compile) as [Compiled, Compiled, Compiled];
  return (st) => {
    const c = ops.toLogical(cond(st));
    if (c === true) return then(st);
    if (c === false) return otherwise(st);
    return c;
  };
};

/** Expression texts already compiled by eval(), bounded so hostile ads cannot grow it forever. */
const evalCache = new Map<string, Compiled>();
const EVAL_CACHE_LIMIT = 1024;

function compileEvalText(text: string, compile: (e: Expr) => Compiled): Compiled {
  let fn = evalCache.get(text);
  if (fn === undefined) {
    try {
      fn = compile(parseExpression(text));
    } catch {
      fn = alwaysError;
    }
    if (evalCache.size >= EVAL_CACHE_LIMIT) evalCache.clear();
    evalCache.set(text, fn);
  }
  return fn;
}

/** eval(x): x converted to a string, parsed in full and evaluated in the current ad (§4.9). */
const evalForm: SpecialForm = (args, compile) => {
  if (args.length !== 1) return alwaysError;
  const arg = compile(args[0]!);
  return (st) => {
    const v = arg(st);
    if (v === UNDEFINED || v === ERROR) return ERROR;
    const text = typeof v === "string" ? v : unparseValue(v);
    return evalInScope(st, st.scope, compileEvalText(text, compile));
  };
};

/** The attribute an argument names (a plain or selected reference), with its holder. */
function referencedEntry(st: EvalState, arg: Expr, compile: (e: Expr) => Compiled) {
  if (arg.kind === "attr" && !arg.absolute) return findUnscoped(st, arg.name.toLowerCase());
  if (arg.kind === "select") {
    const base = compile(arg.base)(st);
    if (!isAd(base)) return null;
    const entry = base.entries.get(arg.name.toLowerCase());
    return entry ? { ad: base, entry } : null;
  }
  return null;
}

/** unparse(attr): the text of the attribute's expression, "" if absent, ERROR if not a name. */
const unparseForm: SpecialForm = (args, compile) => {
  if (args.length !== 1) return alwaysError;
  const arg = args[0]!;
  if (arg.kind !== "attr" && arg.kind !== "select") return alwaysError;
  return (st) => {
    const found = referencedEntry(st, arg, compile);
    return found === null ? "" : unparseExpr(found.entry.expr);
  };
};

/**
 * The expression to evaluate in each ad for evalInEachContext/countMatches: a name stands for
 * its attribute's expression (OTEST: `countMatches(jobtest, jobs)` with `jobtest = Prio > 2`).
 */
function contextExpression(
  st: EvalState,
  arg: Expr,
  direct: Compiled,
  compile: (e: Expr) => Compiled,
): Compiled {
  const found = referencedEntry(st, arg, compile);
  if (found === null) return direct;
  return found.entry.compiled ?? (found.entry.compiled = compile(found.entry.expr));
}

function eachContext(
  args: readonly Expr[],
  compile: (e: Expr) => Compiled,
  finish: (results: Value[] | null) => Value,
): Compiled {
  if (args.length !== 2) return alwaysError;
  const exprArg = args[0]!;
  const direct = compile(exprArg);
  const list = compile(args[1]!);
  return (st) => {
    const ads = list(st);
    if (ads === UNDEFINED) return finish(null);
    if (!(ads instanceof ListValue)) return ERROR;
    const fn = contextExpression(st, exprArg, direct, compile);
    const results = ads.items.map((item) =>
      isAd(item) ? evalInScope(st, item, fn) : item === UNDEFINED ? UNDEFINED : ERROR,
    );
    return finish(results);
  };
}

const evalInEachContext: SpecialForm = (args, compile) =>
  eachContext(args, compile, (results) => (results === null ? UNDEFINED : new ListValue(results)));

const countMatches: SpecialForm = (args, compile) =>
  eachContext(args, compile, (results) => {
    let count = 0;
    for (const r of results ?? []) if (ops.toLogical(r) === true) count++;
    return count;
  });

export const SPECIAL_FORMS: ReadonlyMap<string, SpecialForm> = new Map([
  ["ifthenelse", ifThenElse],
  ["eval", evalForm],
  ["unparse", unparseForm],
  ["evalineachcontext", evalInEachContext],
  ["countmatches", countMatches],
]);
