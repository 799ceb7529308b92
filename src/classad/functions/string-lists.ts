/**
 * HTCondor's string-list built-ins, where a list is a string like "a, b, c" (SEMANTICS §4.8).
 */
import { equalsAsciiCaseless } from "../operators.js";
import { ERROR, Real, UNDEFINED, type Value } from "../value.js";
import type { Builtin, BuiltinTable } from "./builtin.js";
import { parseCNumber } from "./c-number.js";
import { truncateToInteger } from "./coerce.js";
import { compilePattern, parseRegexOptions } from "./regex-cache.js";
import { SplitMemo, splitRaw, splitTrimmed } from "./string-list-tokens.js";

const TRIMMED = new SplitMemo(splitTrimmed, 1024);
const RAW = new SplitMemo(splitRaw, 1024);

/** The string arguments, or undefined if any is not a string (UNDEFINED included). */
function strings(args: readonly Value[]): readonly string[] | undefined {
  for (const arg of args) if (typeof arg !== "string") return undefined;
  return args as readonly string[];
}

/** `stringListSize(list [, delims])`; default delimiters ", "; UNDEFINED is ERROR (§4.8). */
function stringListSize(args: readonly Value[]): Value {
  if (args.length < 1 || args.length > 2) return ERROR;
  const s = strings(args);
  if (s === undefined) return ERROR;
  return TRIMMED.tokens(s[0]!, s[1] ?? ", ").length;
}

type Summary = "sum" | "avg" | "min" | "max";

/**
 * stringListSum/Avg/Min/Max: each item read like `sscanf("%lf")` (an item that does not start
 * with a number is ERROR); the result is an integer when every item is written with only digits
 * and signs. An empty list sums (and averages) to 0.0 and has no min or max (UNDEFINED).
 * Two HTCondor quirks are not reproduced (§4.8, §7): its average of integers is truncated to an
 * integer (`stringListAvg("1,2")` is 1; here 1.5), and its maximum starts from FLT_MIN, the
 * smallest positive float, so all-negative lists gave 0 (`stringListMax("-5,-3")`; here -3);
 * its minimum likewise started from FLT_MAX. Averages are always real here, as documented.
 */
function summarize(kind: Summary): Builtin {
  return (args) => {
    if (args.length < 1 || args.length > 2) return ERROR;
    const s = strings(args);
    if (s === undefined) return ERROR;
    const items = TRIMMED.tokens(s[0]!, s[1] ?? ", ");
    if (items.length === 0) return kind === "sum" || kind === "avg" ? new Real(0) : UNDEFINED;

    let accumulator = 0;
    let integral = true;
    for (let i = 0; i < items.length; i++) {
      const item = items[i]!;
      const parsed = parseCNumber(item);
      if (parsed === undefined) return ERROR;
      if (!/^[-+0-9]*$/.test(item)) integral = false;
      const x = parsed.value;
      if (i === 0) accumulator = x;
      else if (kind === "min") accumulator = x < accumulator ? x : accumulator;
      else if (kind === "max") accumulator = x > accumulator ? x : accumulator;
      else accumulator += x;
    }
    if (kind === "avg") return new Real(accumulator / items.length);
    return integral ? truncateToInteger(accumulator) : new Real(accumulator);
  };
}

type ItemMatch = (item: string, token: string) => boolean;

const exactly: ItemMatch = (item, token) => item === token;

function contains(tokens: readonly string[], item: string, same: ItemMatch): boolean {
  for (let i = 0; i < tokens.length; i++) if (same(item, tokens[i]!)) return true;
  return false;
}

/**
 * The argument rules of stringListMember and stringListSubsetMatch (§4.8): each argument a string
 * or UNDEFINED (else ERROR); both lists UNDEFINED is UNDEFINED; one UNDEFINED reads as "".
 * Default delimiters ", \t\r\n".
 */
function memberArguments(args: readonly Value[]): [string, string, string] | Value {
  if (args.length < 2 || args.length > 3) return ERROR;
  for (const arg of args) if (arg !== UNDEFINED && typeof arg !== "string") return ERROR;
  const [first, second, delimiters] = args as [Value, Value, Value | undefined];
  if (first === UNDEFINED && second === UNDEFINED) return UNDEFINED;
  return [
    typeof first === "string" ? first : "",
    typeof second === "string" ? second : "",
    typeof delimiters === "string" ? delimiters : ", \t\r\n",
  ];
}

function stringListMember(same: ItemMatch): Builtin {
  return (args) => {
    const checked = memberArguments(args);
    if (!Array.isArray(checked)) return checked as Value;
    const [item, list, delimiters] = checked;
    // An empty item is never a member: empty tokens are dropped.
    return contains(TRIMMED.tokens(list, delimiters), item, same);
  };
}

/**
 * Every item of the first list is in the second. HTCondor answers FALSE when the first list has
 * only delimiters (", "), though TRUE for ""; both are empty subsets here, so both are TRUE.
 */
function stringListSubsetMatch(same: ItemMatch): Builtin {
  return (args) => {
    const checked = memberArguments(args);
    if (!Array.isArray(checked)) return checked as Value;
    const [subset, list, delimiters] = checked;
    const tokens = TRIMMED.tokens(list, delimiters);
    for (const item of TRIMMED.tokens(subset, delimiters)) {
      if (!contains(tokens, item, same)) return false;
    }
    return true;
  };
}

/**
 * `stringListsIntersect(l1, l2 [, delims])`: do the lists share an item? Case-sensitive, default
 * delimiters " ," and no trimming; ERROR beats UNDEFINED, then non-strings are ERROR (§4.8).
 * This is on matchmaking's hot path: split lists come from the memo, and nothing is allocated
 * when both strings have been seen before.
 */
function stringListsIntersect(args: readonly Value[]): Value {
  if (args.length < 2 || args.length > 3) return ERROR;
  if (args.includes(ERROR)) return ERROR;
  if (args.includes(UNDEFINED)) return UNDEFINED;
  const s = strings(args);
  if (s === undefined) return ERROR;
  const delimiters = s[2] || " ,";
  const left = RAW.tokens(s[0]!, delimiters);
  const right = RAW.tokens(s[1]!, delimiters);
  if (right.length > 8) {
    const set = RAW.tokenSet(right);
    for (let i = 0; i < left.length; i++) if (set.has(left[i]!)) return true;
    return false;
  }
  for (let i = 0; i < left.length; i++) {
    if (contains(right, left[i]!, exactly)) return true;
  }
  return false;
}

/**
 * `stringList_regexpMember(pattern, list [, delims [, options]])`: does any item match? Every
 * argument must be a string; an invalid pattern is ERROR; an empty list is UNDEFINED (§4.8).
 */
function stringListRegexpMember(args: readonly Value[]): Value {
  if (args.length < 2 || args.length > 4) return ERROR;
  const s = strings(args);
  if (s === undefined) return ERROR;
  const re = compilePattern(s[0]!, parseRegexOptions(s[3] ?? ""));
  if (re === null) return ERROR;
  const items = TRIMMED.tokens(s[1]!, s[2] ?? ", ");
  if (items.length === 0) return UNDEFINED;
  for (const item of items) if (re.test(item)) return true;
  return false;
}

export const STRING_LIST_FUNCTIONS: BuiltinTable = {
  stringlistsize: stringListSize,
  stringlistsum: summarize("sum"),
  stringlistavg: summarize("avg"),
  stringlistmin: summarize("min"),
  stringlistmax: summarize("max"),
  stringlistmember: stringListMember(exactly),
  stringlistimember: stringListMember(equalsAsciiCaseless),
  stringlistsubsetmatch: stringListSubsetMatch(exactly),
  stringlistisubsetmatch: stringListSubsetMatch(equalsAsciiCaseless),
  stringlistsintersect: stringListsIntersect,
  stringlist_regexpmember: stringListRegexpMember,
  // The name HTCondor registers has an underscore; this spelling is accepted too.
  stringlistregexpmember: stringListRegexpMember,
};
