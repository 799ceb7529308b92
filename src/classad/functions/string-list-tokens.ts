/**
 * Reading HTCondor string lists ("T2_US_MIT, T2_US_Nebraska"), and a bounded memo of the result.
 * `stringListsIntersect(DESIRED_Sites, TARGET.GLIDEIN_CMSSite)` runs for every job/slot pair in
 * matchmaking with the same few strings over and over, so splitting once per distinct string
 * matters more than splitting fast.
 */

/** C's `isspace` in the C locale. */
function isCSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13);
}

function isDelimiter(delimiters: string, c: number): boolean {
  for (let i = 0; i < delimiters.length; i++) {
    if (delimiters.charCodeAt(i) === c) return true;
  }
  return false;
}

/**
 * HTCondor's `StringTokenIterator` (SEMANTICS §4.8): any delimiter character separates, tokens
 * lose surrounding white space, empty tokens are dropped.
 */
export function splitTrimmed(list: string, delimiters: string): string[] {
  const tokens: string[] = [];
  let start = 0;
  for (let i = 0; i <= list.length; i++) {
    if (i < list.length && !isDelimiter(delimiters, list.charCodeAt(i))) continue;
    let from = start;
    let to = i;
    while (from < to && isCSpace(list.charCodeAt(from))) from++;
    while (to > from && isCSpace(list.charCodeAt(to - 1))) to--;
    if (to > from) tokens.push(list.slice(from, to));
    start = i + 1;
  }
  return tokens;
}

/**
 * The core library's split for `stringListsIntersect` (`strcspn`): any delimiter character
 * separates and empty tokens are dropped, with no other trimming.
 */
export function splitRaw(list: string, delimiters: string): string[] {
  const tokens: string[] = [];
  let start = 0;
  for (let i = 0; i <= list.length; i++) {
    if (i < list.length && !isDelimiter(delimiters, list.charCodeAt(i))) continue;
    if (i > start) tokens.push(list.slice(start, i));
    start = i + 1;
  }
  return tokens;
}

/** Strings longer than this are split every time rather than kept. */
const LONGEST_MEMOIZED = 4096;
const DELIMITER_SETS = 16;

/** Split results by delimiter set and string, at most `capacity` strings per delimiter set. */
export class SplitMemo {
  private readonly byDelimiters = new Map<string, Map<string, readonly string[]>>();
  private readonly sets = new WeakMap<readonly string[], ReadonlySet<string>>();

  constructor(
    private readonly split: (list: string, delimiters: string) => string[],
    private readonly capacity: number,
  ) {}

  tokens(list: string, delimiters: string): readonly string[] {
    let memo = this.byDelimiters.get(delimiters);
    if (memo === undefined) {
      if (this.byDelimiters.size >= DELIMITER_SETS) this.byDelimiters.clear();
      memo = new Map();
      this.byDelimiters.set(delimiters, memo);
    }
    const known = memo.get(list);
    if (known !== undefined) return known;
    const tokens = this.split(list, delimiters);
    if (list.length <= LONGEST_MEMOIZED) {
      if (memo.size >= this.capacity) memo.delete(memo.keys().next().value as string);
      memo.set(list, tokens);
    }
    return tokens;
  }

  /** The tokens as a set, built once per memoized token list. */
  tokenSet(tokens: readonly string[]): ReadonlySet<string> {
    let set = this.sets.get(tokens);
    if (set === undefined) {
      set = new Set(tokens);
      this.sets.set(tokens, set);
    }
    return set;
  }
}
