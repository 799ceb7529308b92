/**
 * Compiles expression trees to closures `(state) => Value`, once per expression. Names are
 * lower-cased here; integer arithmetic and comparisons, and boolean logic, are done inline before
 * falling back to the general operators, so evaluating a typical Requirements allocates nothing.
 */
import type { AdNode, BinaryNode, Expr } from "./ast.js";
import {
  LIST_ITEMS_PER_STEP,
  MAX_LIST_LENGTH,
  MAX_STRING_LENGTH,
  STRING_UNITS_PER_STEP,
} from "./budget.js";
import { AttrEntry, ClassAd } from "./classad.js";
import { type Compiled, EvalState } from "./eval-state.js";
import { BUILTINS, type FnContext } from "./functions/index.js";
import * as ops from "./operators.js";
import { parseExpression } from "./parser.js";
import {
  evalEntry,
  lookupIn,
  lookupUnscoped,
  resolveSelf,
  resolveTarget,
  rootOf,
  selectFrom,
  subscript,
} from "./scope.js";
import { SPECIAL_FORMS } from "./special-forms.js";
import { ERROR, ListValue, UNDEFINED, type Value } from "./value.js";

/** An expression with its compiled closure. */
export interface CompiledExpr {
  readonly expr: Expr;
  readonly fn: Compiled;
}

export function compileExpression(expr: string | Expr): CompiledExpr {
  const tree = typeof expr === "string" ? parseExpression(expr) : expr;
  return { expr: tree, fn: compile(tree) };
}

const reusableStates: EvalState[] = [];

/**
 * Evaluate a compiled expression with `scope` as MY and `target` as TARGET (null: single-ad
 * context). States are recycled so that repeated evaluation allocates nothing. A failure inside
 * evaluation (a stack overflow on absurdly deep data, say) is reported as ERROR.
 */
export function runCompiled(
  fn: Compiled,
  scope: ClassAd,
  target: ClassAd | null,
  ctx: FnContext,
): Value {
  const st = reusableStates.pop() ?? new EvalState(scope, ctx);
  st.reset(scope, target === null ? null : scope, target, ctx);
  const started = st.steps;
  try {
    return started <= 0 ? ERROR : fn(st);
  } catch (err) {
    if (err instanceof RangeError) return ERROR;
    throw err;
  } finally {
    st.settle(started);
    reusableStates.push(st);
  }
}

/**
 * Evaluate `owner`'s attribute `key` with `owner` as MY and `target` as TARGET (as HTCondor's
 * EvalAttr in a match context): UNDEFINED when `owner` lacks it.
 */
export function evaluateOwnAttribute(
  owner: ClassAd,
  key: string,
  target: ClassAd | null,
  ctx: FnContext,
): Value {
  const entry = owner.entries.get(key);
  if (entry === undefined) return UNDEFINED;
  const constant = entry.constant;
  if (constant !== null) return constant;
  const st = reusableStates.pop() ?? new EvalState(owner, ctx);
  st.reset(owner, target === null ? null : owner, target, ctx);
  const started = st.steps;
  try {
    return started <= 0 ? ERROR : evalEntry(st, owner, entry);
  } catch (err) {
    if (err instanceof RangeError) return ERROR;
    throw err;
  } finally {
    st.settle(started);
    reusableStates.push(st);
  }
}

/** Names with a meaning of their own when no attribute of that name is in scope (§1.11, §3.4). */
const SELF_NAMES = new Set(["self", "my"]);
const TARGET_NAMES = new Set(["target", "other"]);

export function compile(e: Expr): Compiled {
  switch (e.kind) {
    case "literal": {
      const v = e.value;
      return () => v;
    }
    case "attr":
      return compileAttr(e.name.toLowerCase(), e.absolute);
    case "select":
      return compileSelect(e.base, e.name.toLowerCase());
    case "subscript": {
      const base = compile(e.base);
      const index = compile(e.index);
      return (st) => subscript(st, base(st), index(st));
    }
    case "unary":
      return compileUnary(e.op, compile(e.operand));
    case "binary":
      return leftChainLength(e) > LONG_CHAIN ? compileLongChain(e) : compileBinary(e);
    case "ternary": {
      const cond = compile(e.cond);
      const then = compile(e.then);
      const otherwise = compile(e.otherwise);
      return (st) => {
        const c = cond(st);
        const b = typeof c === "boolean" ? c : ops.toLogical(c);
        if (b === true) return then(st);
        if (b === false) return otherwise(st);
        return b;
      };
    }
    case "elvis": {
      const left = compile(e.left);
      const right = compile(e.right);
      return (st) => {
        const v = left(st);
        return v === UNDEFINED ? right(st) : v;
      };
    }
    case "paren":
      return compile(e.inner);
    case "call":
      return compileCall(e.name.toLowerCase(), e.args);
    case "list":
      return compileList(e.items);
    case "classad":
      return compileAdLiteral(e);
  }
}

function compileAttr(key: string, absolute: boolean): Compiled {
  if (absolute) return (st) => lookupIn(st, rootOf(st.scope), key);
  if (SELF_NAMES.has(key)) return (st) => resolveSelf(st, key);
  if (TARGET_NAMES.has(key)) return (st) => resolveTarget(st, key);
  switch (key) {
    case "parent":
      return (st) => {
        const entry = st.scope.entries.get(key);
        if (entry !== undefined) return lookupIn(st, st.scope, key);
        return st.scope.parent ?? UNDEFINED;
      };
    case "toplevel":
    case "root":
      return (st) => {
        const entry = st.scope.entries.get(key);
        if (entry !== undefined) return lookupIn(st, st.scope, key);
        return rootOf(st.scope);
      };
    case "currenttime":
      // Old semantics: every ad has an implicit CurrentTime; an explicit one wins (§3.4).
      return (st) => {
        const entry = st.scope.entries.get(key);
        if (entry !== undefined) return lookupIn(st, st.scope, key);
        return st.ctx.now();
      };
    default:
      return (st) => lookupUnscoped(st, key);
  }
}

function compileSelect(base: Expr, key: string): Compiled {
  // MY.x and TARGET.x are the commonest references in matchmaking: skip the intermediate value.
  if (base.kind === "attr" && !base.absolute) {
    const baseKey = base.name.toLowerCase();
    if (SELF_NAMES.has(baseKey)) {
      return (st) => {
        const scope = st.scope;
        if (!scope.entries.has(baseKey)) return lookupIn(st, scope, key);
        return selectFrom(st, resolveSelf(st, baseKey), key);
      };
    }
    if (TARGET_NAMES.has(baseKey)) {
      return (st) => {
        const target = resolveTarget(st, baseKey);
        return target instanceof ClassAd ? lookupIn(st, target, key) : selectFrom(st, target, key);
      };
    }
  }
  const baseFn = compile(base);
  return (st) => selectFrom(st, baseFn(st), key);
}

function compileUnary(op: string, operand: Compiled): Compiled {
  switch (op) {
    case "-":
      return (st) => {
        const v = operand(st);
        return typeof v === "number" && v !== 0 ? -v : ops.negate(v);
      };
    case "+":
      return (st) => ops.unaryPlus(operand(st));
    case "!":
      return (st) => {
        const v = operand(st);
        return typeof v === "boolean" ? !v : ops.not(v);
      };
    default:
      return (st) => ops.bitNot(operand(st));
  }
}

function compileBinary(
  e: BinaryNode,
  l: Compiled = compile(e.left),
  r: Compiled = compile(e.right),
): Compiled {
  switch (e.op) {
    case "&&":
      // Non-strict, short-circuit on the left operand only (§2.7).
      return (st) => {
        const lv = l(st);
        const a = typeof lv === "boolean" ? lv : ops.toLogical(lv);
        if (a === false || a === ERROR) return a;
        const rv = r(st);
        const b = typeof rv === "boolean" ? rv : ops.toLogical(rv);
        if (a === true) return b;
        // a is UNDEFINED
        return b === false || b === ERROR ? b : UNDEFINED;
      };
    case "||":
      return (st) => {
        const lv = l(st);
        const a = typeof lv === "boolean" ? lv : ops.toLogical(lv);
        if (a === true || a === ERROR) return a;
        const rv = r(st);
        const b = typeof rv === "boolean" ? rv : ops.toLogical(rv);
        if (a === false) return b;
        return b === true || b === ERROR ? b : UNDEFINED;
      };
    case "=?=":
      return (st) => {
        const a = l(st);
        const b = r(st);
        return typeof a === "string" && typeof b === "string" ? a === b : ops.metaEq(a, b);
      };
    case "=!=":
      return (st) => {
        const a = l(st);
        const b = r(st);
        return typeof a === "string" && typeof b === "string" ? a !== b : ops.metaNe(a, b);
      };
    case "==":
      return (st) => {
        const a = l(st);
        const b = r(st);
        if (typeof a === "number" && typeof b === "number") return a === b;
        if (a === b && typeof a === "string") return true;
        return ops.eq(a, b);
      };
    case "!=":
      return (st) => {
        const a = l(st);
        const b = r(st);
        if (typeof a === "number" && typeof b === "number") return a !== b;
        if (a === b && typeof a === "string") return false;
        return ops.ne(a, b);
      };
    case "<":
      return (st) => {
        const a = l(st);
        const b = r(st);
        return typeof a === "number" && typeof b === "number" ? a < b : ops.lt(a, b);
      };
    case "<=":
      return (st) => {
        const a = l(st);
        const b = r(st);
        return typeof a === "number" && typeof b === "number" ? a <= b : ops.le(a, b);
      };
    case ">":
      return (st) => {
        const a = l(st);
        const b = r(st);
        return typeof a === "number" && typeof b === "number" ? a > b : ops.gt(a, b);
      };
    case ">=":
      return (st) => {
        const a = l(st);
        const b = r(st);
        return typeof a === "number" && typeof b === "number" ? a >= b : ops.ge(a, b);
      };
    case "+":
      return (st) => {
        const a = l(st);
        const b = r(st);
        if (typeof a === "number" && typeof b === "number") {
          const sum = a + b;
          if (Number.isSafeInteger(sum)) return sum;
        }
        return ops.add(a, b);
      };
    case "-":
      return (st) => {
        const a = l(st);
        const b = r(st);
        if (typeof a === "number" && typeof b === "number") {
          const diff = a - b;
          if (Number.isSafeInteger(diff)) return diff;
        }
        return ops.sub(a, b);
      };
    case "*":
      return (st) => {
        const a = l(st);
        const b = r(st);
        if (typeof a === "number" && typeof b === "number") {
          const product = a * b;
          if (Number.isSafeInteger(product) && product !== 0) return product;
        }
        return ops.mul(a, b);
      };
    default: {
      const fn = STRICT_BINARY[e.op];
      return (st) => fn(l(st), r(st));
    }
  }
}

/** Beyond this many left-nested binary operators, compile to a loop instead of nested closures. */
const LONG_CHAIN = 64;

function leftChainLength(e: BinaryNode): number {
  let n = 0;
  for (let node: Expr = e; node.kind === "binary" && n <= LONG_CHAIN; node = node.left) n++;
  return n;
}

/**
 * `a + b + c + ...` with thousands of terms (a generated `Name == "x" || ...` list, say) nests
 * as deep as it is long; folding it left to right keeps compiling and evaluating it off the stack.
 */
function compileLongChain(e: BinaryNode): Compiled {
  const steps: BinaryNode[] = [];
  let node: Expr = e;
  while (node.kind === "binary") {
    steps.push(node);
    node = node.left;
  }
  steps.reverse();
  const first = compile(node);
  const folds = steps.map((step) => foldStep(step.op, compile(step.right)));
  return (st) => {
    let v = first(st);
    for (let i = 0; i < folds.length; i++) v = folds[i]!(v, st);
    return v;
  };
}

/**
 * One step of a folded chain: the node's own closure, with the value so far as its left operand
 * (read first, before the right operand is evaluated, so re-entry cannot clobber it).
 */
function foldStep(op: BinaryNode["op"], right: Compiled): (left: Value, st: EvalState) => Value {
  let held: Value = UNDEFINED;
  const node: BinaryNode = { kind: "binary", op, left: LITERAL_SLOT, right: LITERAL_SLOT };
  const combined = compileBinary(node, () => held, right);
  return (left, st) => {
    held = left;
    return combined(st);
  };
}

const LITERAL_SLOT: Expr = { kind: "literal", value: UNDEFINED };

const STRICT_BINARY: Record<string, (a: Value, b: Value) => Value> = {
  "/": ops.div,
  "%": ops.mod,
  "&": ops.bitAnd,
  "|": ops.bitOr,
  "^": ops.bitXor,
  "<<": ops.shl,
  ">>": ops.shr,
  ">>>": ops.ushr,
};

const NO_ARGS: readonly Value[] = [];

function compileCall(name: string, args: readonly Expr[]): Compiled {
  const special = SPECIAL_FORMS.get(name);
  if (special !== undefined) return special(args, compile);
  const builtin = BUILTINS.get(name);
  // An unknown function parses but evaluates to ERROR (§1.7).
  if (builtin === undefined) return () => ERROR;
  const fns = args.map(compile);
  const n = fns.length;
  if (n === 0) {
    return (st) => (--st.steps < 0 ? ERROR : builtin(NO_ARGS, st.ctx));
  }
  // Builtins only read their arguments during the call, so each call site reuses one array;
  // a nested use of the same site (while its arguments are being evaluated) gets a fresh one.
  let spare: Value[] | null = new Array<Value>(n);
  return (st) => {
    const values = spare ?? new Array<Value>(n);
    spare = null;
    // A built-in's work grows with the strings and lists it reads: charge for their size.
    let cost = 1;
    for (let i = 0; i < n; i++) {
      const v = fns[i]!(st);
      values[i] = v;
      if (typeof v === "string") cost += (v.length / STRING_UNITS_PER_STEP) | 0;
      else if (v instanceof ListValue) cost += (v.items.length / LIST_ITEMS_PER_STEP) | 0;
    }
    st.steps -= cost;
    const result = st.steps < 0 ? ERROR : capped(st, builtin(values, st.ctx));
    spare = values;
    return result;
  };
}

/** A built-in's result, or ERROR when it is past a size cap (recorded in the state). */
function capped(st: EvalState, v: Value): Value {
  if (typeof v === "string") {
    if (v.length <= MAX_STRING_LENGTH) return v;
    st.hit ??= "string_length";
    return ERROR;
  }
  if (v instanceof ListValue && v.items.length > MAX_LIST_LENGTH) {
    st.hit ??= "list_length";
    return ERROR;
  }
  return v;
}

function compileList(items: readonly Expr[]): Compiled {
  if (items.every((item) => item.kind === "literal")) {
    const constant = new ListValue(items.map((item) => (item as { value: Value }).value));
    return () => constant;
  }
  const fns = items.map(compile);
  return (st) => {
    const values = new Array<Value>(fns.length);
    for (let i = 0; i < fns.length; i++) values[i] = fns[i]!(st);
    return new ListValue(values);
  };
}

/**
 * A nested ad literal evaluates to an ad whose enclosing scope is the ad evaluating it (§1.11).
 * Its attribute entries (and their compiled closures) are shared by every such instance; the
 * last instance is reused while the enclosing ad stays the same.
 */
function compileAdLiteral(node: AdNode): Compiled {
  const template = ClassAd.fromNode(node).entries;
  let lastParent: ClassAd | null = null;
  let lastAd: ClassAd | null = null;
  return (st) => {
    if (lastAd !== null && lastParent === st.scope) return lastAd;
    const ad = new ClassAd(new Map<string, AttrEntry>(template));
    ad.parent = st.scope;
    lastParent = st.scope;
    lastAd = ad;
    return ad;
  };
}
