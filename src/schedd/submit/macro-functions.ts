/**
 * condor_submit's macro functions applied to already-expanded arguments: `$INT()`, `$REAL()`,
 * `$STRING()`, `$EVAL()`, `$SUBSTR()`, `$CHOICE()`, `$RANDOM_CHOICE()`, `$RANDOM_INTEGER()`.
 * Pure: the caller expands macros inside the arguments and supplies the randomness.
 */
import {
  ClassAd,
  ERROR,
  Real,
  UNDEFINED,
  tryParse,
  parseExpression,
  unparseValue,
} from "../../classad/index.js";
import type { Value } from "../../classad/index.js";

export const MACRO_FUNCTIONS = [
  "INT",
  "REAL",
  "STRING",
  "EVAL",
  "SUBSTR",
  "CHOICE",
  "RANDOM_CHOICE",
  "RANDOM_INTEGER",
] as const;
export type MacroFunction = (typeof MACRO_FUNCTIONS)[number];

export type FunctionResult = { ok: true; text: string } | { ok: false; message: string };

export interface FunctionContext {
  /** The expanded value of a macro by lower-case name, or undefined when there is none. */
  readonly value: (lowerName: string) => FunctionResult | undefined;
  /** A number in [0, 1), as Math.random gives; tests pass a fixed one. */
  readonly random: () => number;
}

/** Longest text a function may produce: a format such as `%99999d` must not blow up memory. */
const MAX_OUTPUT = 65536;
const MAX_RANDOM_STEPS = 1e9;

/** Offsets of the commas outside quotes and brackets. */
function topLevelCommas(text: string): number[] {
  const at: number[] = [];
  let depth = 0;
  let quote = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === "\\") i++;
      else if (c === '"') quote = false;
    } else if (c === '"') quote = true;
    else if (c === "(" || c === "[" || c === "{") depth++;
    else if (c === ")" || c === "]" || c === "}") depth--;
    else if (c === "," && depth === 0) at.push(i);
  }
  return at;
}

/** Split at top-level commas (not inside quotes or brackets), each part trimmed. */
export function splitArgs(text: string): string[] {
  const out: string[] = [];
  let start = 0;
  for (const comma of topLevelCommas(text)) {
    out.push(text.slice(start, comma).trim());
    start = comma + 1;
  }
  out.push(text.slice(start).trim());
  return out;
}

function evaluate(text: string): Value {
  const parsed = tryParse(() => parseExpression(text));
  if (!parsed.ok) return ERROR;
  return new ClassAd().evaluateExpr(parsed.value);
}

/** The first argument: a macro's value when it names one, else the text itself. */
function operand(arg: string, ctx: FunctionContext): FunctionResult {
  if (/^[A-Za-z_][A-Za-z0-9_.]*$/.test(arg)) {
    const v = ctx.value(arg.toLowerCase());
    if (v !== undefined) return v;
  }
  return { ok: true, text: arg };
}

function toNumber(v: Value): number | undefined {
  if (typeof v === "number") return v;
  if (typeof v === "bigint") return Number(v);
  if (v instanceof Real) return v.v;
  if (typeof v === "boolean") return v ? 1 : 0;
  return undefined;
}

/** One C printf conversion (`%d`, `%04d`, `%.3f`, `%x`, `%s`, ...) around literal text. */
export function formatValue(format: string, value: number | string): FunctionResult {
  const m = /^((?:[^%]|%%)*)%([-+ 0#]*)(\d*)(?:\.(\d+))?([diouxXeEfFgGs])((?:[^%]|%%)*)$/.exec(
    format,
  );
  if (m === null)
    return {
      ok: false,
      message: `format '${format}' needs exactly one conversion such as %d, %.2f or %s`,
    };
  const [, pre, flags, widthText, precText, conv, post] = m;
  const width = widthText === "" ? 0 : Number(widthText);
  const prec = precText === undefined ? undefined : Number(precText);
  if (width > MAX_OUTPUT || (prec ?? 0) > 100)
    return { ok: false, message: `format '${format}' is too wide` };
  let body: string;
  let sign = "";
  if (conv === "s") {
    body = String(value);
    if (prec !== undefined) body = body.slice(0, prec);
  } else {
    const n = typeof value === "number" ? value : Number(value);
    if (!Number.isFinite(n))
      return { ok: false, message: `'${value}' is not a number for '${format}'` };
    const abs = Math.abs(n);
    if (n < 0) sign = "-";
    else if (flags.includes("+")) sign = "+";
    else if (flags.includes(" ")) sign = " ";
    if ("diu".includes(conv)) body = Math.trunc(abs).toString();
    else if (conv === "o") body = Math.trunc(abs).toString(8);
    else if (conv === "x") body = Math.trunc(abs).toString(16);
    else if (conv === "X") body = Math.trunc(abs).toString(16).toUpperCase();
    else if (conv === "f" || conv === "F") body = abs.toFixed(prec ?? 6);
    else if (conv === "e" || conv === "E") {
      body = abs.toExponential(prec ?? 6).replace(/e([+-])(\d)$/, "e$10$2");
      if (conv === "E") body = body.toUpperCase();
    } else {
      // %g: shortest of %e and %f at the given significant digits, trailing zeros dropped.
      const p = prec === 0 ? 1 : (prec ?? 6);
      const exp = abs === 0 ? 0 : Math.floor(Math.log10(abs));
      body =
        exp < -4 || exp >= p
          ? abs
              .toExponential(p - 1)
              .replace(/\.?0+e/, "e")
              .replace(/e([+-])(\d)$/, "e$10$2")
          : abs.toFixed(Math.max(0, p - 1 - exp)).replace(/\.0*$|(\.\d*?)0+$/, "$1");
      if (conv === "G") body = body.toUpperCase();
    }
  }
  let padded = sign + body;
  if (padded.length < width) {
    if (flags.includes("-")) padded = padded.padEnd(width);
    else if (flags.includes("0") && conv !== "s")
      padded = sign + body.padStart(width - sign.length, "0");
    else padded = padded.padStart(width);
  }
  return { ok: true, text: `${pre.replace(/%%/g, "%")}${padded}${post.replace(/%%/g, "%")}` };
}

/** The format of `$INT(x, fmt)`: everything after the first comma, spaces included. */
function formatArg(argText: string): string | undefined {
  const first = topLevelCommas(argText)[0];
  return first === undefined ? undefined : argText.slice(first + 1);
}

function numeric(fn: "INT" | "REAL", args: string[], ctx: FunctionContext): FunctionResult {
  const op = operand(args[0], ctx);
  if (!op.ok) return op;
  const n = toNumber(evaluate(op.text));
  if (n === undefined)
    return { ok: false, message: `$${fn}(${args[0]}): '${op.text}' does not evaluate to a number` };
  if (fn === "INT") return formatValue(args[1] ?? "%d", Math.trunc(n));
  // The manual gives "%16G"; HTCondor prints %.16G in practice (no padding).
  return formatValue(args[1] ?? "%.16G", n);
}

function stringOf(args: string[], ctx: FunctionContext): FunctionResult {
  const op = operand(args[0], ctx);
  if (!op.ok) return op;
  const v = evaluate(op.text);
  // A value that is not a string expression (a bare word, a path) is taken as it is written.
  const text =
    typeof v === "string" ? v : v === ERROR || v === UNDEFINED ? op.text : unparseValue(v);
  return args[1] === undefined ? { ok: true, text } : formatValue(args[1], text);
}

function substr(args: string[], ctx: FunctionContext): FunctionResult {
  // As condor_submit: the first argument names a macro, and one that is not defined is empty
  // (not its own name as text).
  const op = ctx.value(args[0].trim().toLowerCase()) ?? { ok: true, text: "" };
  if (!op.ok) return op;
  const s = op.text;
  const start = Number(args[1]);
  const len = args[2] === undefined ? undefined : Number(args[2]);
  if (!Number.isInteger(start) || (len !== undefined && !Number.isInteger(len))) {
    return { ok: false, message: `$SUBSTR(${args.join(",")}): start and length must be integers` };
  }
  // Negative start counts from the end; negative length stops that many characters from the end.
  const from = start < 0 ? Math.max(0, s.length + start) : Math.min(start, s.length);
  const to = len === undefined ? s.length : len < 0 ? s.length + len : from + len;
  return { ok: true, text: s.slice(from, Math.max(from, to)) };
}

/** Items of `$CHOICE(i, a, b)`; a single name that is a macro gives that macro's comma list. */
function choices(items: string[], ctx: FunctionContext): FunctionResult | string[] {
  if (items.length === 1 && /^[A-Za-z_][A-Za-z0-9_.]*$/.test(items[0])) {
    const v = ctx.value(items[0].toLowerCase());
    if (v !== undefined) return v.ok ? splitArgs(v.text) : v;
  }
  return items;
}

function choice(args: string[], ctx: FunctionContext): FunctionResult {
  const op = operand(args[0], ctx);
  if (!op.ok) return op;
  const index = toNumber(evaluate(op.text));
  const list = choices(args.slice(1), ctx);
  if (!Array.isArray(list)) return list;
  if (index === undefined || !Number.isInteger(index) || index < 0 || index >= list.length) {
    return {
      ok: false,
      message: `$CHOICE(${args.join(",")}): index '${op.text}' is not 0..${list.length - 1}`,
    };
  }
  return { ok: true, text: list[index] };
}

function randomInteger(args: string[], ctx: FunctionContext): FunctionResult {
  const [min, max, step = 1] = args.map((a) => toNumber(evaluate(a)));
  if (min === undefined || max === undefined || step === undefined || step <= 0 || max < min) {
    return {
      ok: false,
      message: `$RANDOM_INTEGER(${args.join(",")}): give integers min, max (min <= max) and an optional step > 0`,
    };
  }
  const steps = Math.floor((max - min) / step);
  if (steps > MAX_RANDOM_STEPS)
    return { ok: false, message: `$RANDOM_INTEGER(${args.join(",")}): range too large` };
  return { ok: true, text: String(min + step * Math.floor(ctx.random() * (steps + 1))) };
}

export function applyMacroFunction(
  fn: MacroFunction,
  argText: string,
  ctx: FunctionContext,
): FunctionResult {
  const args = splitArgs(argText);
  if (fn === "INT" || fn === "REAL" || fn === "STRING") {
    const format = formatArg(argText);
    args.length = 1;
    if (format !== undefined) args.push(format);
  }
  if (args[0] === "") return { ok: false, message: `$${fn}() needs an argument` };
  let result: FunctionResult;
  switch (fn) {
    case "INT":
    case "REAL":
      result = numeric(fn, args, ctx);
      break;
    case "STRING":
      result = stringOf(args, ctx);
      break;
    case "EVAL": {
      // Like $INT, a macro name stands for its value (needed for expressions holding a ')').
      const op = operand(argText.trim(), ctx);
      if (!op.ok) return op;
      const v = evaluate(op.text);
      if (v === ERROR) return { ok: false, message: `$EVAL(${argText}) is not a valid expression` };
      result = { ok: true, text: typeof v === "string" ? v : unparseValue(v) };
      break;
    }
    case "SUBSTR":
      result = substr(args, ctx);
      break;
    case "CHOICE":
      result = choice(args, ctx);
      break;
    case "RANDOM_CHOICE": {
      const list = choices(args, ctx);
      if (!Array.isArray(list)) return list;
      result = { ok: true, text: list[Math.floor(ctx.random() * list.length)] };
      break;
    }
    case "RANDOM_INTEGER":
      result = randomInteger(args, ctx);
      break;
  }
  if (result.ok && result.text.length > MAX_OUTPUT)
    return { ok: false, message: `$${fn}(...) gives more than ${MAX_OUTPUT} characters` };
  return result;
}
