/**
 * The `queue` statement: `queue`, `queue N`, `queue [N] X in (a, b)`, `queue [N] X,Y from FILE`
 * or `from ( ... )`, `queue [N] X matching [files|dirs] *.dat`. Parsing is pure; reading the items
 * file and listing directories go through the functions the caller injects.
 */
import { posix } from "node:path";
import { ClassAd, parseExpression, tryParse } from "../../classad/index.js";
import { globToRegExp } from "./glob.js";

export interface DirEntry {
  readonly name: string;
  readonly isDir: boolean;
}

export interface QueueIo {
  /** Base directory for relative items files and patterns. */
  readonly cwd: string;
  readonly readFile?: (path: string) => string | undefined;
  readonly listDir?: (path: string) => readonly DirEntry[] | undefined;
}

/** What one queue statement asks for: `count` jobs per item, each item a row of values. */
export interface QueuePlan {
  readonly count: number;
  /** Variable names as written (default `Item`). */
  readonly vars: readonly string[];
  /** One row per item; null for a plain `queue N` (no items). */
  readonly items: readonly (readonly string[])[] | null;
  /** Indexes of the items to queue (a `[start:end:step]` slice picks some); $(ItemIndex) keeps the item's place in the full list. */
  readonly selected: readonly number[];
}

export type QueueResult = { ok: true; plan: QueuePlan } | { ok: false; message: string };

const KEYWORD = /^(.*?)\b(in|from|matching)\b\s*(.*)$/is;
const VAR = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The job count: an integer, or an integer expression such as `2 * 50` (evaluated now). */
function parseCount(text: string): number | null {
  if (text === "") return 1;
  if (/^[0-9]+$/.test(text)) return Number(text);
  const parsed = tryParse(() => parseExpression(text));
  if (!parsed.ok) return null;
  const value = new ClassAd().evaluateExpr(parsed.value);
  if (typeof value === "bigint")
    return value >= 0n && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : null;
  return typeof value === "number" && value >= 0 ? value : null;
}

/** Split one item row among the variables: on commas and/or blanks, the last gets the rest. */
function splitRow(row: string, nvars: number): string[] {
  if (nvars === 1) return [row.trim()];
  const values: string[] = [];
  let rest = row.trim();
  for (let v = 0; v < nvars - 1; v++) {
    const m = /^([^,\s]*)\s*,?\s*/.exec(rest);
    const word = m?.[1] ?? "";
    values.push(word);
    rest = rest.slice(m?.[0].length ?? rest.length);
  }
  values.push(rest.trim());
  return values;
}

function listItems(
  text: string,
  block: readonly string[] | null,
  nvars: number,
): QueueResult | string[][] {
  let body: string;
  if (block !== null) {
    const open = text.indexOf("(");
    body = [text.slice(open + 1), ...block].join("\n");
  } else {
    // The parentheses are optional on one line: `queue input in A, B, C`.
    const m = /^\((.*)\)$/s.exec(text.trim());
    body = m === null ? text : m[1];
    if (body.trim() === "") return { ok: false, message: "'queue ... in' needs a list of items" };
  }
  const pieces = body.split(/[,\n]/).map((p) => p.trim());
  const rows: string[][] = [];
  for (const piece of pieces) {
    if (piece === "") continue;
    // With one variable, blanks separate items too (`in (a b c)`).
    if (nvars === 1) for (const word of piece.split(/\s+/)) rows.push([word]);
    else rows.push(splitRow(piece, nvars));
  }
  return rows;
}

function rowsOf(lines: readonly string[], nvars: number): string[][] {
  return lines.filter((l) => l.trim() !== "" && !/^\s*#/.test(l)).map((l) => splitRow(l, nvars));
}

function fromItems(
  text: string,
  block: readonly string[] | null,
  nvars: number,
  io: QueueIo,
): QueueResult | string[][] {
  if (block !== null) return rowsOf(block, nvars);
  const m = /^\((.*)\)$/s.exec(text.trim());
  if (m !== null) return rowsOf(m[1].split(/\n/), nvars);
  const file = text.trim();
  if (file === "")
    return { ok: false, message: "'queue ... from' needs a file name or a ( ... ) block" };
  if (file.endsWith("|"))
    return { ok: false, message: "'queue ... from' a command is not supported" };
  const path = posix.resolve(io.cwd, file);
  const content = io.readFile?.(path);
  if (content === undefined)
    return { ok: false, message: `cannot read the items file '${file}' (${path})` };
  return rowsOf(content.split(/\r?\n/), nvars);
}

function matchingItems(text: string, io: QueueIo): QueueResult | string[][] {
  let words = text
    .trim()
    .split(/\s+/)
    .filter((w) => w !== "");
  let want: "files" | "dirs" | "any" = "any";
  if (words[0] !== undefined && /^(files|dirs)$/i.test(words[0])) {
    want = words[0].toLowerCase() as "files" | "dirs";
    words = words.slice(1);
  }
  if (words.length === 0) return { ok: false, message: "'queue ... matching' needs a pattern" };
  const found = new Set<string>();
  for (const pattern of words) {
    const slash = pattern.lastIndexOf("/");
    const dirPart = slash < 0 ? "" : pattern.slice(0, slash + 1);
    const namePart = pattern.slice(slash + 1);
    const dir = posix.resolve(io.cwd, dirPart === "" ? "." : dirPart);
    const entries = io.listDir?.(dir);
    if (entries === undefined) return { ok: false, message: `cannot list the directory ${dir}` };
    const re = globToRegExp(namePart);
    for (const entry of entries) {
      // As with a shell, '*' does not match a leading dot.
      if (entry.name.startsWith(".") && !namePart.startsWith(".")) continue;
      if (want === "files" && entry.isDir) continue;
      if (want === "dirs" && !entry.isDir) continue;
      if (re.test(entry.name)) found.add(dirPart + entry.name);
    }
  }
  return [...found].sort().map((name) => [name]);
}

/** Python-style `[start:end:step]` (each part optional, negative counts from the end). */
export function pickSlice(indexes: readonly number[], text: string): number[] | null {
  const parts = text.split(":").map((p) => p.trim());
  if (
    parts.length < 1 ||
    parts.length > 3 ||
    parts.some((p) => p !== "" && !/^-?[0-9]+$/.test(p))
  ) {
    return null;
  }
  const n = indexes.length;
  const [startText = "", endText = "", stepText = ""] = parts;
  const step = stepText === "" ? 1 : Number(stepText);
  if (step <= 0) return null;
  const at = (t: string, fallback: number): number => {
    if (t === "") return fallback;
    const v = Number(t);
    return Math.min(Math.max(v < 0 ? n + v : v, 0), n);
  };
  // A lone `[i]` is one item, as in Python indexing.
  if (parts.length === 1) {
    const i = at(startText, 0);
    return startText === "" || i >= n ? [] : [indexes[i]];
  }
  const out: number[] = [];
  for (let i = at(startText, 0); i < at(endText, n); i += step) out.push(indexes[i]);
  return out;
}

/** Parse a queue statement's arguments (already macro-expanded). */
export function planQueue(args: string, block: readonly string[] | null, io: QueueIo): QueueResult {
  const keyword = KEYWORD.exec(args);
  if (keyword === null) {
    const count = parseCount(args.trim());
    if (count === null) return { ok: false, message: `bad queue count '${args.trim()}'` };
    return { ok: true, plan: { count, vars: [], items: null, selected: [0] } };
  }
  const head = keyword[1].trim();
  const verb = keyword[2].toLowerCase();
  const countMatch = /^([0-9]+)(?:\s+(.*))?$/s.exec(head);
  const count = countMatch ? Number(countMatch[1]) : 1;
  const varText = countMatch ? (countMatch[2] ?? "") : head;
  const vars = varText === "" ? ["Item"] : varText.split(/[\s,]+/).filter((v) => v !== "");
  for (const v of vars) {
    if (!VAR.test(v)) return { ok: false, message: `bad queue variable name '${v}'` };
  }
  let rest = keyword[3];
  const sliceMatch = /^\[([^\]]*)\]\s*/.exec(rest);
  rest = sliceMatch ? rest.slice(sliceMatch[0].length) : rest;
  let items: QueueResult | string[][];
  if (verb === "in") items = listItems(rest, block, vars.length);
  else if (verb === "from") items = fromItems(rest, block, vars.length, io);
  else {
    if (vars.length > 1) return { ok: false, message: "'queue ... matching' takes one variable" };
    items = matchingItems(rest, io);
  }
  if (!Array.isArray(items)) return items;
  const all = items.map((_, i) => i);
  const selected = sliceMatch ? pickSlice(all, sliceMatch[1]) : all;
  if (selected === null)
    return { ok: false, message: `bad slice '[${sliceMatch?.[1]}]' (use [start:end:step])` };
  return { ok: true, plan: { count, vars, items, selected } };
}
