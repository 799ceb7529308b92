/** Regular-expression built-ins (SEMANTICS §4.6): regexp, regexps, replace, replaceall, regexpMember. */
import type { Matcher, RE2JS } from "re2js";
import { MAX_STRING_LENGTH } from "../budget.js";
import { ERROR, ListValue, UNDEFINED, type Value } from "../value.js";
import type { Builtin, BuiltinTable } from "./builtin.js";
import { type Exceptional, isExceptional } from "./coerce.js";
import { NO_OPTIONS, type RegexOptions, compilePattern, parseRegexOptions } from "./regex-cache.js";

/**
 * The argument checks shared by the regexp family: ERROR anywhere is ERROR, then UNDEFINED anywhere
 * is UNDEFINED, then the options (when given) must be a string. Returns the options or the result.
 */
function checkArguments(args: readonly Value[], optionsAt: number): RegexOptions | Exceptional {
  if (args.includes(ERROR)) return ERROR;
  if (args.includes(UNDEFINED)) return UNDEFINED;
  if (args.length <= optionsAt) return NO_OPTIONS;
  const options = args[optionsAt]!;
  return typeof options === "string" ? parseRegexOptions(options) : ERROR;
}

/** `regexp(pattern, target [, options])`: does the pattern match anywhere in the target? */
function regexp(args: readonly Value[]): Value {
  if (args.length < 2 || args.length > 3) return ERROR;
  const options = checkArguments(args, 2);
  if (isExceptional(options)) return options;
  const [pattern, target] = args as [Value, Value];
  if (typeof pattern !== "string" || typeof target !== "string") return ERROR;
  const re = compilePattern(pattern, options);
  return re === null ? ERROR : re.test(target);
}

/**
 * The substitution text for one match: `\0`..`\9` stand for the groups, a group the pattern does
 * not have is ERROR, a group that took no part in the match is empty, and a backslash before
 * anything else is kept as it is.
 */
function expand(substitution: string, match: Matcher): string | typeof ERROR {
  let out = "";
  for (let i = 0; i < substitution.length; i++) {
    const c = substitution[i]!;
    const digit = substitution.charCodeAt(i + 1) - 48;
    if (c === "\\" && digit >= 0 && digit <= 9) {
      if (digit > match.groupCount()) return ERROR;
      out += match.group(digit) ?? "";
      i++;
    } else {
      out += c;
    }
  }
  return out;
}

/** Where to look after a match: past an empty match by one whole character. */
function nextSearchStart(target: string, start: number, end: number): number {
  if (end > start) return end;
  const c = target.charCodeAt(end);
  return c >= 0xd800 && c <= 0xdbff ? end + 2 : end + 1;
}

/**
 * Without `f` the result is only the substitution text (of every match with `g`); with `f` it is
 * the target with the matches replaced. No match gives "" without `f`, the target with it.
 */
function substitute(re: RE2JS, target: string, substitution: string, options: RegexOptions): Value {
  const match = re.matcher(target);
  let out = "";
  let copiedUpTo = 0;
  let from = 0;
  while (from <= target.length && match.find(from)) {
    const start = match.start();
    const end = match.end();
    if (options.fullTarget) out += target.slice(copiedUpTo, start);
    const text = expand(substitution, match);
    if (text === ERROR) return ERROR;
    out += text;
    copiedUpTo = end;
    // Past the cap the caller refuses the result anyway: stop before it grows without end.
    if (out.length > MAX_STRING_LENGTH) return out;
    if (!options.global) break;
    from = nextSearchStart(target, start, end);
  }
  if (options.fullTarget) out += target.slice(copiedUpTo);
  return out;
}

/** regexps / replace (adds `f`) / replaceall (adds `fg`). */
function substitution(extraOptions: string): Builtin {
  return (args) => {
    if (args.length < 3 || args.length > 4) return ERROR;
    const checked = checkArguments(args, 3);
    if (isExceptional(checked)) return checked;
    const options = extraOptions
      ? parseRegexOptions((args.length === 4 ? (args[3] as string) : "") + extraOptions)
      : checked;
    const [pattern, target, replacement] = args as [Value, Value, Value];
    if (typeof pattern !== "string" || typeof target !== "string") return ERROR;
    if (typeof replacement !== "string") return ERROR;
    const re = compilePattern(pattern, options);
    return re === null ? ERROR : substitute(re, target, replacement, options);
  };
}

/**
 * `regexpMember(pattern, list [, options])`: TRUE if a string item matches; an item that is
 * neither a string nor UNDEFINED, met before a match, is ERROR; no match but an UNDEFINED item is
 * UNDEFINED (§4.6). HTCondor answers FALSE for an invalid pattern here; it is ERROR, as in regexp.
 */
function regexpMember(args: readonly Value[]): Value {
  if (args.length < 2 || args.length > 3) return ERROR;
  const options = checkArguments(args, 2);
  if (isExceptional(options)) return options;
  const [pattern, list] = args as [Value, Value];
  if (typeof pattern !== "string" || !(list instanceof ListValue)) return ERROR;
  const re = compilePattern(pattern, options);
  if (re === null) return ERROR;
  let sawUndefined = false;
  for (const item of list.items) {
    if (typeof item === "string") {
      if (re.test(item)) return true;
    } else if (item === UNDEFINED) {
      sawUndefined = true;
    } else {
      return ERROR;
    }
  }
  return sawUndefined ? UNDEFINED : false;
}

export const REGEX_FUNCTIONS: BuiltinTable = {
  regexp,
  regexps: substitution(""),
  replace: substitution("f"),
  replaceall: substitution("fg"),
  regexpmember: regexpMember,
};
