/** List built-ins (SEMANTICS §4.7): member, identicalMember, anyCompare, allCompare, sum, avg, min, max. */
import * as op from "../operators.js";
import { ERROR, ListValue, Real, UNDEFINED, type Value, isClassAd } from "../value.js";
import type { Builtin, BuiltinTable } from "./builtin.js";

type Comparison = (a: Value, b: Value) => Value;

/**
 * `member(x, list)` compares items with `==` (so `"A"` is a member of `{"a"}` and 1 of `{1.0}`);
 * `identicalMember` with `=?=`, which also finds UNDEFINED and ERROR. An UNDEFINED list, or an
 * UNDEFINED `x` for `member`, is UNDEFINED; `x` a list or ad, or `list` not a list, is ERROR.
 */
function membership(compare: Comparison, identical: boolean): Builtin {
  return (args) => {
    if (args.length !== 2) return ERROR;
    const [x, list] = args as [Value, Value];
    if (list === UNDEFINED || (!identical && x === UNDEFINED)) return UNDEFINED;
    if (!(list instanceof ListValue) || x instanceof ListValue || isClassAd(x)) return ERROR;
    if (!identical && x === ERROR) return ERROR;
    for (const item of list.items) if (compare(item, x) === true) return true;
    return false;
  };
}

const COMPARISONS: Readonly<Record<string, Comparison>> = {
  "<": op.lt,
  "<=": op.le,
  "!=": op.ne,
  "==": op.eq,
  ">": op.gt,
  ">=": op.ge,
  is: op.metaEq,
  isnt: op.metaNe,
};

/**
 * `anyCompare(op, list, v)` / `allCompare(op, list, v)`: `op` is exactly one of
 * `< <= != == > >= is isnt` (case-sensitive), each item is compared as `item op v`, and an ERROR
 * comparison is ERROR. HTCondor stops at the first UNDEFINED comparison and answers FALSE for both
 * functions, so `anyCompare("==", {undefined, 1}, 1)` is FALSE although `{1, undefined}` gives
 * TRUE (§4.7). Here order does not matter: an UNDEFINED comparison is simply not a match, so
 * anyCompare goes on looking and allCompare fails.
 */
function listCompare(all: boolean): Builtin {
  return (args) => {
    if (args.length !== 3) return ERROR;
    const [name, list, v] = args as [Value, Value, Value];
    if (name === UNDEFINED) return UNDEFINED;
    if (typeof name !== "string" || !Object.hasOwn(COMPARISONS, name)) return ERROR;
    if (list === UNDEFINED) return UNDEFINED;
    if (!(list instanceof ListValue)) return ERROR;
    const compare = COMPARISONS[name]!;
    for (const item of list.items) {
      const result = compare(item, v);
      if (result === true) {
        if (!all) return true;
      } else if (result === false) {
        if (all) return false;
      } else if (result === UNDEFINED) {
        if (all) return false;
      } else {
        return ERROR;
      }
    }
    return all;
  };
}

/** The numbers of a list for sum/avg/min/max: UNDEFINED items are skipped, other non-numbers are ERROR. */
function numbersOf(list: ListValue): Value[] | typeof ERROR {
  const numbers: Value[] = [];
  for (const item of list.items) {
    if (item === UNDEFINED) continue;
    if (typeof item === "boolean") numbers.push(item ? 1 : 0);
    else if (typeof item === "number" || typeof item === "bigint" || item instanceof Real) {
      numbers.push(item);
    } else return ERROR;
  }
  return numbers;
}

function listArgument(args: readonly Value[]): ListValue | Value {
  if (args.length !== 1) return ERROR;
  const list = args[0]!;
  if (list === UNDEFINED) return UNDEFINED;
  return list instanceof ListValue ? list : ERROR;
}

/**
 * `sum(list)`: integer unless a real appears; `sum({})` is 0 (§4.7). Booleans count as 0/1:
 * HTCondor copies a lone first item unchanged, so its `sum({true})` is `true`; here it is 1.
 */
function sum(args: readonly Value[]): Value {
  const list = listArgument(args);
  if (!(list instanceof ListValue)) return list;
  const numbers = numbersOf(list);
  if (numbers === ERROR) return ERROR;
  let total: Value = 0;
  for (const n of numbers) total = op.add(total, n);
  return total;
}

/**
 * `avg(list)`: the real mean of the numbers. With no numbers (an empty or all-UNDEFINED list)
 * HTCondor means to answer UNDEFINED but overwrites it with the integer 0 (§4.7, §7); the answer
 * here is UNDEFINED, as its documentation says.
 */
function avg(args: readonly Value[]): Value {
  const list = listArgument(args);
  if (!(list instanceof ListValue)) return list;
  const numbers = numbersOf(list);
  if (numbers === ERROR) return ERROR;
  if (numbers.length === 0) return UNDEFINED;
  let total: Value = 0;
  for (const n of numbers) total = op.add(total, n);
  return op.div(total, new Real(numbers.length));
}

/**
 * `min(list)` / `max(list)`: UNDEFINED when there are no numbers; the result is real when any item
 * is real, because each comparison promotes (`min({1, 2.0})` is 1.0, §4.7).
 */
function bound(better: Comparison): Builtin {
  return (args) => {
    const list = listArgument(args);
    if (!(list instanceof ListValue)) return list;
    const numbers = numbersOf(list);
    if (numbers === ERROR) return ERROR;
    if (numbers.length === 0) return UNDEFINED;
    let best = numbers[0]!;
    let anyReal = false;
    for (const n of numbers) {
      if (n instanceof Real) anyReal = true;
      if (better(n, best) === true) best = n;
    }
    return anyReal && !(best instanceof Real) ? new Real(Number(best)) : best;
  };
}

export const LIST_FUNCTIONS: BuiltinTable = {
  member: membership(op.eq, false),
  identicalmember: membership(op.metaEq, true),
  anycompare: listCompare(false),
  allcompare: listCompare(true),
  sum,
  avg,
  min: bound(op.lt),
  max: bound(op.gt),
};
