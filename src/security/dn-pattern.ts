/**
 * Subject-name patterns for CA namespaces: Globus signing-policy globs (`*`, `?`) and the small
 * regular-expression language of EUGridPMA `.namespaces` files (`.`, `\x`, `*`, `+`, `?`). Both
 * compile to one token list matched in time linear in the name times the pattern (no
 * backtracking), because the files come from outside and names come from peers. Matching is on
 * the slash form, case-insensitive, as Globus and the EMI libraries compare names.
 */
import { UpdraftError } from "../common/errors.js";

/** A pattern longer than this is refused: real namespaces are a few dozen characters. */
export const MAX_PATTERN_CHARS = 1024;

interface Token {
  /** A lower-cased character, or undefined for "any character". */
  ch: string | undefined;
  optional: boolean;
  repeat: boolean;
}

export interface DnPattern {
  readonly source: string;
  readonly tokens: readonly Token[];
}

export class DnPatternError extends UpdraftError {
  readonly code = "dn-pattern-invalid";
  override name = "DnPatternError";
}

/**
 * Names as policy files and certificates spell them differ in a few attribute names (OpenSSL's
 * `emailAddress`, Globus's `Email` and `E`, `USERID` for `UID`); one spelling for each, and case
 * folded, so a policy matches however either side wrote the name.
 */
export function normalizeDnForPolicy(dn: string): string {
  return dn.toLowerCase().replace(/(^|\/)(emailaddress|email|e|userid)=/g, (_m, slash, attr) => {
    return `${slash}${attr === "userid" ? "uid" : "email"}=`;
  });
}

function checkLength(source: string): void {
  if (source.length > MAX_PATTERN_CHARS) {
    throw new DnPatternError(
      `a pattern of ${source.length} characters (at most ${MAX_PATTERN_CHARS})`,
    );
  }
}

/** A Globus signing-policy glob: `*` any run of characters (slashes included), `?` one. */
export function compileGlob(glob: string): DnPattern {
  checkLength(glob);
  const tokens: Token[] = [];
  for (const c of normalizeDnForPolicy(glob)) {
    if (c === "*") tokens.push({ ch: undefined, optional: true, repeat: true });
    else if (c === "?") tokens.push({ ch: undefined, optional: false, repeat: false });
    else tokens.push({ ch: c, optional: false, repeat: false });
  }
  return { source: glob, tokens };
}

/**
 * A `.namespaces` subject: a POSIX-style expression matched against the whole name. Only what
 * IGTF files use is understood (literals, `\` escapes, `.`, and `*`, `+`, `?` after one of them;
 * a leading `^` and trailing `$` are implied anyway). Anything else (groups, classes,
 * alternation, counted repeats) is refused rather than guessed at.
 */
export function compileNamespaceRegex(re: string): DnPattern {
  checkLength(re);
  let body = normalizeDnForPolicy(re);
  if (body.startsWith("^")) body = body.slice(1);
  if (body.endsWith("$") && !body.endsWith("\\$")) body = body.slice(0, -1);
  const tokens: Token[] = [];
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    let tok: Token;
    if (c === "\\") {
      if (i + 1 >= body.length) throw new DnPatternError(`"${re}" ends with a lone backslash`);
      tok = { ch: body[++i], optional: false, repeat: false };
    } else if (c === ".") {
      tok = { ch: undefined, optional: false, repeat: false };
    } else if ("*+?".includes(c)) {
      throw new DnPatternError(`"${re}": "${c}" at ${i} follows nothing it could repeat`);
    } else if ("[](){}|^$".includes(c)) {
      throw new DnPatternError(`"${re}": "${c}" is not supported in namespace subjects`);
    } else {
      tok = { ch: c, optional: false, repeat: false };
    }
    const q = body[i + 1];
    if (q === "*") tokens.push({ ...tok, optional: true, repeat: true });
    else if (q === "?") tokens.push({ ...tok, optional: true });
    else if (q === "+") tokens.push(tok, { ...tok, optional: true, repeat: true });
    else tokens.push(tok);
    if (q === "*" || q === "?" || q === "+") {
      i++;
      if ("*+?".includes(body[i + 1] ?? "x")) {
        throw new DnPatternError(`"${re}": repeated quantifiers at ${i + 1}`);
      }
    }
  }
  return { source: re, tokens };
}

/** True when the whole of `dn` (slash form) matches. */
export function matchesDn(p: DnPattern, dn: string): boolean {
  const tokens = p.tokens;
  const n = tokens.length;
  let cur = new Uint8Array(n + 1);
  let next = new Uint8Array(n + 1);
  cur[0] = 1;
  closeOver(cur, tokens);
  for (const ch of normalizeDnForPolicy(dn)) {
    next.fill(0);
    let any = false;
    for (let i = 0; i < n; i++) {
      if (!cur[i]) continue;
      const t = tokens[i];
      if (t.ch !== undefined && t.ch !== ch) continue;
      if (t.repeat) next[i] = 1;
      next[i + 1] = 1;
      any = true;
    }
    if (!any) return false;
    closeOver(next, tokens);
    [cur, next] = [next, cur];
  }
  return cur[n] === 1;
}

/** States reachable by skipping optional tokens. */
function closeOver(states: Uint8Array, tokens: readonly Token[]): void {
  for (let i = 0; i < tokens.length; i++) {
    if (states[i] && tokens[i].optional) states[i + 1] = 1;
  }
}
