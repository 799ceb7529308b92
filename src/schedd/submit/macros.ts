/**
 * Submit-file macro expansion as condor_submit does it: `$(name)`, `$(name:default)`,
 * `$ENV(NAME)`, `$F[pdnxq](name)` for file-name parts, `$INT()`, `$REAL()`, `$STRING()`, `$EVAL()`,
 * `$SUBSTR()`, `$CHOICE()`, `$RANDOM_CHOICE()`, `$RANDOM_INTEGER()` (macro-functions.ts); `$$(Attr)` is left alone for the schedd to
 * fill at match time. Values are expanded lazily, so a macro may use one defined after it.
 */
import { posix } from "node:path";
import { applyMacroFunction, type MacroFunction } from "./macro-functions.js";

/** The raw (unexpanded) value of a macro, by lower-case name; undefined when there is none. */
export type MacroLookup = (lowerName: string) => string | undefined;

export type Expansion = { ok: true; text: string } | { ok: false; message: string };

const MAX_DEPTH = 32;

/** Index of the `)` that closes the `(` at `open`, or -1. */
function closingParen(text: string, open: number): number {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    const c = text[i];
    if (c === "(") depth++;
    else if (c === ")" && --depth === 0) return i;
  }
  return -1;
}

/** `$Fpnx(name)`: parts of a file name (HTCondor's file-name macro functions). */
function fileParts(options: string, value: string): string {
  const trimmed = value.replace(/\/+$/, "");
  const dir = posix.dirname(trimmed);
  const base = posix.basename(trimmed);
  const dot = base.lastIndexOf(".");
  const stem = dot > 0 ? base.slice(0, dot) : base;
  const ext = dot > 0 ? base.slice(dot) : "";
  let out = "";
  if (options.includes("p")) out += dir === "." && !trimmed.startsWith(".") ? "" : `${dir}/`;
  if (options.includes("d")) out += `${posix.basename(dir)}/`;
  if (options.includes("n")) out += stem;
  if (options.includes("x")) out += ext;
  if (!/[pdnx]/.test(options)) out = trimmed;
  return options.includes("q") ? `"${out}"` : out;
}

export interface ExpandOptions {
  readonly lookup: MacroLookup;
  /**
   * An undefined macro is an error. Otherwise it expands to nothing, as condor_submit does; the
   * compiler is strict only where a value is required (the executable, the queue statement).
   */
  readonly strict?: boolean;
  /** The submitter's environment, for `$ENV(NAME)`. */
  readonly environ?: Readonly<Record<string, string | undefined>>;
  /** Parsed values by text: a value is scanned once however many jobs expand it. */
  readonly templates?: Map<string, Template>;
  /** A number in [0, 1) for `$RANDOM_*()`; Math.random unless a test fixes it. */
  readonly random?: () => number;
}

/** A value cut into literal text and macro uses. */
type Piece =
  | string
  | { readonly env: string }
  /** `$INT(...)` and the other functions: the argument text, expanded before the call. */
  | { readonly fn: MacroFunction; readonly args: string }
  | {
      readonly name: string;
      readonly lower: string;
      /** `$(name:default)`: the default's text (itself expanded), else undefined. */
      readonly fallback: string | undefined;
      /** File-name parts for `$Fpnx(name)`, else undefined. */
      readonly parts: string | undefined;
    };

export type Template = { readonly pieces: readonly Piece[] } | { readonly error: string };

/** Cut a value into pieces; `$$(...)` stays literal for the schedd to fill at match time. */
export function parseTemplate(text: string): Template {
  const pieces: Piece[] = [];
  let literal = "";
  let i = 0;
  while (i < text.length) {
    const dollar = text.indexOf("$", i);
    if (dollar < 0) {
      literal += text.slice(i);
      break;
    }
    literal += text.slice(i, dollar);
    if (text.startsWith("$$(", dollar)) {
      const close = closingParen(text, dollar + 2);
      const end = close < 0 ? text.length : close + 1;
      literal += text.slice(dollar, end);
      i = end;
      continue;
    }
    const head =
      /^\$(ENV|INT|REAL|STRING|EVAL|SUBSTR|CHOICE|RANDOM_CHOICE|RANDOM_INTEGER|F[a-z]*)?\(/i.exec(
        text.slice(dollar, dollar + 20),
      );
    if (head === null) {
      literal += "$";
      i = dollar + 1;
      continue;
    }
    const open = dollar + head[0].length - 1;
    const close = closingParen(text, open);
    if (close < 0) return { error: `unclosed '${head[0]}' in '${text}'` };
    const inner = text.slice(open + 1, close);
    i = close + 1;
    if (literal !== "") pieces.push(literal);
    literal = "";
    const fn = head[1]?.toUpperCase();
    if (fn === "ENV") {
      pieces.push({ env: inner.trim() });
      continue;
    }
    if (fn !== undefined && !fn.startsWith("F")) {
      pieces.push({ fn: fn as MacroFunction, args: inner });
      continue;
    }
    const colon = inner.indexOf(":");
    const name = (colon < 0 ? inner : inner.slice(0, colon)).trim();
    pieces.push({
      name,
      lower: name.toLowerCase(),
      fallback: colon < 0 ? undefined : inner.slice(colon + 1),
      parts: fn === undefined ? undefined : fn.slice(1).toLowerCase(),
    });
  }
  if (literal !== "") pieces.push(literal);
  return { pieces };
}

function templateOf(text: string, options: ExpandOptions): Template {
  const cache = options.templates;
  let t = cache?.get(text);
  if (t === undefined) {
    t = parseTemplate(text);
    cache?.set(text, t);
  }
  return t;
}

export function expandMacros(text: string, options: ExpandOptions, depth = 0): Expansion {
  if (!text.includes("$")) return { ok: true, text };
  if (depth > MAX_DEPTH) {
    return { ok: false, message: "macros nest too deeply (a macro uses itself?)" };
  }
  const template = templateOf(text, options);
  if ("error" in template) return { ok: false, message: template.error };
  let out = "";
  for (const piece of template.pieces) {
    if (typeof piece === "string") {
      out += piece;
      continue;
    }
    if ("env" in piece) {
      out += options.environ?.[piece.env] ?? "";
      continue;
    }
    if ("fn" in piece) {
      const args = expandMacros(piece.args, options, depth + 1);
      if (!args.ok) return args;
      const result = applyMacroFunction(piece.fn, args.text, {
        value: (lower) => {
          const raw = options.lookup(lower);
          return raw === undefined ? undefined : expandMacros(raw, options, depth + 1);
        },
        random: options.random ?? Math.random,
      });
      if (!result.ok) return result;
      out += result.text;
      continue;
    }
    const raw = options.lookup(piece.lower);
    let value: Expansion;
    if (raw !== undefined) value = expandMacros(raw, options, depth + 1);
    else if (piece.fallback !== undefined) value = expandMacros(piece.fallback, options, depth + 1);
    else if (options.strict) {
      return {
        ok: false,
        message: `undefined macro $(${piece.name}) (give a default with $(${piece.name}:value))`,
      };
    } else continue;
    if (!value.ok) return value;
    out += piece.parts === undefined ? value.text : fileParts(piece.parts, value.text);
  }
  return { ok: true, text: out };
}

const REFERENCE =
  /(?<!\$)\$(?:F[a-z]*|INT|REAL|STRING|SUBSTR|CHOICE)?\(\s*([A-Za-z_][A-Za-z0-9_.]*)/gi;

const FUNCTION_ARGS =
  /(?<!\$)\$(?:INT|REAL|STRING|EVAL|SUBSTR|CHOICE|RANDOM_CHOICE|RANDOM_INTEGER)\(([^()]*)\)/gi;

/** Lower-case names of the macros `text` uses directly (not through other macros). */
export function macroReferences(text: string): string[] {
  if (!text.includes("$")) return [];
  const names: string[] = [];
  for (const m of text.matchAll(REFERENCE)) names.push(m[1].toLowerCase());
  // A bare name anywhere in a function's arguments (`$CHOICE(Process, sites)`) may be a macro.
  for (const m of text.matchAll(FUNCTION_ARGS)) {
    for (const arg of m[1].split(",")) {
      const name = arg.trim();
      if (/^[A-Za-z_][A-Za-z0-9_.]*$/.test(name)) names.push(name.toLowerCase());
    }
  }
  return [...new Set(names)];
}

/**
 * The first match-time macro (`$$(...)`) of an expression that stands outside a string literal,
 * or undefined. `$` is no ClassAd token, so condor_submit refuses such a value ("Parse error in
 * expression") and its schedd, which fills `$$()` by text, never sees one: only inside a string
 * (`"$$(GLIDEIN_Site)"`) is it kept until the match. Strings are read in the old syntax, where a
 * backslash escapes only a quote.
 */
export function macroOutsideString(text: string): string | undefined {
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === "\\" && text[i + 1] === '"') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === "$" && text.startsWith("$$(", i)) {
      let depth = 0;
      for (let j = i + 2; j < text.length; j++) {
        if (text[j] === "(") depth++;
        else if (text[j] === ")" && --depth === 0) return text.slice(i, j + 1);
      }
      return text.slice(i);
    }
  }
  return undefined;
}
