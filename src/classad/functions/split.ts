/** `split`, `splitUserName`, `splitSlotName` (SEMANTICS §4.7, §4.8). */
import { ERROR, ListValue, type Value } from "../value.js";
import type { Builtin, BuiltinTable } from "./builtin.js";

function isCSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13);
}

/**
 * HTCondor's `split(s [, separators])` (default `", \t"`): empty pieces are dropped, so runs of
 * white space, and a separator with white space around it, count once ("foo, bar" and "foo ,bar"
 * give two items); but a repeated non-space separator keeps the empty piece between
 * ("a,,b" gives "a", "", "b"). The separator remembered for that test is the last non-space
 * one seen, wherever it was.
 */
export function splitPieces(s: string, separators: string): string[] {
  const pieces: string[] = [];
  let start = 0;
  let lastNonSpaceSeparator = -1;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (separators.indexOf(s[i]!) < 0) continue;
    if (i > start) pieces.push(s.slice(start, i));
    else if (!isCSpace(c) && c === lastNonSpaceSeparator) pieces.push("");
    if (!isCSpace(c)) lastNonSpaceSeparator = c;
    start = i + 1;
  }
  if (s.length > start) pieces.push(s.slice(start));
  return pieces;
}

function split(args: readonly Value[]): Value {
  if (args.length < 1 || args.length > 2) return ERROR;
  const [s, separators = ", \t"] = args as [Value, Value?];
  if (typeof s !== "string" || typeof separators !== "string") return ERROR;
  return new ListValue(splitPieces(s, separators));
}

/** Split at the first `@`; without one, the whole string is the user, or the host of a slot name. */
function splitAt(wholeIsFirst: boolean): Builtin {
  return (args) => {
    if (args.length !== 1) return ERROR;
    const s = args[0]!;
    if (typeof s !== "string") return ERROR;
    const at = s.indexOf("@");
    if (at < 0) return new ListValue(wholeIsFirst ? [s, ""] : ["", s]);
    return new ListValue([s.slice(0, at), s.slice(at + 1)]);
  };
}

export const SPLIT_FUNCTIONS: BuiltinTable = {
  split,
  splitusername: splitAt(true),
  splitslotname: splitAt(false),
};
