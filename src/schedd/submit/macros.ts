/**
 * Submit-file macro expansion as condor_submit does it: `$(name)`, `$(name:default)`,
 * `$ENV(NAME)`, `$F[pdnxq](name)` for file-name parts; `$$(Attr)` is left alone for the schedd to
 * fill at match time. Values are expanded lazily, so a macro may use one defined after it.
 */
import { posix } from "node:path";

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
}

export function expandMacros(text: string, options: ExpandOptions, depth = 0): Expansion {
  if (!text.includes("$")) return { ok: true, text };
  if (depth > MAX_DEPTH)
    return { ok: false, message: "macros nest too deeply (a macro uses itself?)" };
  let out = "";
  let i = 0;
  while (i < text.length) {
    const dollar = text.indexOf("$", i);
    if (dollar < 0) {
      out += text.slice(i);
      break;
    }
    out += text.slice(i, dollar);
    if (text.startsWith("$$(", dollar)) {
      // Match-time substitution: keep it verbatim, including anything nested inside.
      const close = closingParen(text, dollar + 2);
      const end = close < 0 ? text.length : close + 1;
      out += text.slice(dollar, end);
      i = end;
      continue;
    }
    const head = /^\$(ENV|F[a-z]*)?\(/i.exec(text.slice(dollar, dollar + 12));
    if (head === null) {
      out += "$";
      i = dollar + 1;
      continue;
    }
    const open = dollar + head[0].length - 1;
    const close = closingParen(text, open);
    if (close < 0) return { ok: false, message: `unclosed '${head[0]}' in '${text}'` };
    const inner = text.slice(open + 1, close);
    i = close + 1;
    const fn = head[1]?.toUpperCase();
    if (fn === "ENV") {
      out += options.environ?.[inner.trim()] ?? "";
      continue;
    }
    const colon = inner.indexOf(":");
    const name = (colon < 0 ? inner : inner.slice(0, colon)).trim();
    const raw = options.lookup(name.toLowerCase());
    let value: Expansion;
    if (raw !== undefined) value = expandMacros(raw, options, depth + 1);
    else if (colon >= 0) value = expandMacros(inner.slice(colon + 1), options, depth + 1);
    else if (options.strict) {
      return {
        ok: false,
        message: `undefined macro $(${name}) (give a default with $(${name}:value))`,
      };
    } else value = { ok: true, text: "" };
    if (!value.ok) return value;
    out += fn === undefined ? value.text : fileParts(fn.slice(1).toLowerCase(), value.text);
  }
  return { ok: true, text: out };
}

const REFERENCE = /(?<!\$)\$(?:F[a-z]*)?\(\s*([A-Za-z_][A-Za-z0-9_.]*)/gi;

/** Lower-case names of the macros `text` uses directly (not through other macros). */
export function macroReferences(text: string): string[] {
  if (!text.includes("$")) return [];
  const names: string[] = [];
  for (const m of text.matchAll(REFERENCE)) names.push(m[1].toLowerCase());
  return names;
}
