/**
 * Compiling HTCondor (PCRE2) patterns with re2js, which matches in linear time: a pattern can never
 * make evaluation backtrack for ages, whatever an ad says. The price: what RE2 cannot express —
 * backreferences (`\1`), lookahead and lookbehind, atomic groups, possessive quantifiers, `\Z`, `\K`
 * — fails to compile and the calling function returns ERROR, as for any invalid pattern. Also, `$`
 * without the `m` option matches only at the very end, where PCRE also matches before a final
 * newline.
 */
import { RE2JS } from "re2js";

/** Option letters (SEMANTICS §4.6): i caseless, m multi-line, s dot-all, x extended; f, g for substitution. */
export interface RegexOptions {
  readonly flags: number;
  readonly extended: boolean;
  readonly fullTarget: boolean;
  readonly global: boolean;
}

/**
 * Reads an options string. HTCondor's regexp/regexps/replace/regexpMember honour only lower-case
 * letters although the docs promise both cases (§4.6, §7), while stringList_regexpMember takes both;
 * here both cases work everywhere. Unknown letters are ignored, as HTCondor does.
 */
export function parseRegexOptions(options: string): RegexOptions {
  let flags = 0;
  let extended = false;
  let fullTarget = false;
  let global = false;
  for (const letter of options.toLowerCase()) {
    if (letter === "i") flags |= RE2JS.CASE_INSENSITIVE;
    else if (letter === "m") flags |= RE2JS.MULTILINE;
    else if (letter === "s") flags |= RE2JS.DOTALL;
    else if (letter === "x") extended = true;
    else if (letter === "f") fullTarget = true;
    else if (letter === "g") global = true;
  }
  return { flags, extended, fullTarget, global };
}

const NO_OPTIONS = parseRegexOptions("");
export { NO_OPTIONS };

const CAPACITY = 512;

/** Compiled patterns by options and text; `null` remembers that a pattern does not compile. */
class PatternCache {
  private readonly entries = new Map<string, RE2JS | null>();

  get(pattern: string, options: RegexOptions): RE2JS | null {
    const key = `${options.flags}${options.extended ? "x" : "-"}${pattern}`;
    const cached = this.entries.get(key);
    if (cached !== undefined) return cached;
    const compiled = compile(pattern, options);
    if (this.entries.size >= CAPACITY) {
      // Forget the oldest entry; ads reuse a handful of patterns, so this rarely matters.
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
    this.entries.set(key, compiled);
    return compiled;
  }
}

const PATTERNS = new PatternCache();

/** The compiled pattern, or null when it is invalid or beyond what RE2 can express. */
export function compilePattern(pattern: string, options: RegexOptions): RE2JS | null {
  return PATTERNS.get(pattern, options);
}

function compile(pattern: string, options: RegexOptions): RE2JS | null {
  try {
    const source = options.extended ? stripExtendedSyntax(pattern) : pattern;
    return RE2JS.compile(source, options.flags);
  } catch {
    return null;
  }
}

function isPatternSpace(c: string): boolean {
  return c === " " || c === "\t" || c === "\n" || c === "\r" || c === "\f" || c === "\v";
}

/**
 * PCRE's `x` option, which RE2 lacks: white space outside character classes is dropped and `#`
 * starts a comment to the end of the line. An escaped space stays a literal space.
 */
export function stripExtendedSyntax(pattern: string): string {
  let out = "";
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === "\\" && i + 1 < pattern.length) {
      const next = pattern[i + 1]!;
      out +=
        isPatternSpace(next) && !inClass
          ? `\\x${next.charCodeAt(0).toString(16).padStart(2, "0")}`
          : c + next;
      i++;
    } else if (inClass) {
      out += c;
      if (c === "]") inClass = false;
    } else if (c === "[") {
      inClass = true;
      out += c;
      // A `]` straight after `[` or `[^` is a literal member, not the end of the class.
      if (pattern[i + 1] === "^") out += pattern[++i];
      if (pattern[i + 1] === "]") out += pattern[++i];
    } else if (c === "#") {
      while (i + 1 < pattern.length && pattern[i + 1] !== "\n") i++;
    } else if (!isPatternSpace(c)) {
      out += c;
    }
  }
  return out;
}
