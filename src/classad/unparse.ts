/**
 * Text of values and expressions, as HTCondor's unparser writes them (SEMANTICS §1.10):
 * new syntax by default (`[ a = 1; b = "x" ]`, reals as `%1.15E`, `is`/`isnt`), or the old
 * long form (reals as `%.16G`, `=?=`/`=!=`, strings raw except for the quote).
 */
import type { Expr } from "./ast.js";
import { ERROR, ListValue, Real, UNDEFINED, type Value, isClassAd } from "./value.js";

/** An ad that can list its attributes' expressions (the engine's `ClassAd`). */
export interface UnparsableAd {
  attributeExprs(): Iterable<readonly [name: string, expr: Expr]>;
}

export type Syntax = "new" | "old";

/** A real as HTCondor prints it: `%1.15E` (new) or `%.16G` plus `.0` if needed (old). */
export function unparseReal(x: number, syntax: Syntax = "new"): string {
  if (x === 0) return Object.is(x, -0) ? "-0.0" : "0.0";
  if (Number.isNaN(x)) return 'real("NaN")';
  if (x === Infinity) return 'real("INF")';
  if (x === -Infinity) return 'real("-INF")';
  const [mantissa, exponentText] = x.toExponential(15).split("e") as [string, string];
  const exponent = Number(exponentText);
  if (syntax === "new") return `${mantissa}E${formatExponent(exponent)}`;
  // %.16G: fixed notation when -4 <= exponent < 16, trailing zeros removed.
  let text: string;
  if (exponent >= -4 && exponent < 16) {
    text = stripZeros(x.toFixed(15 - exponent));
  } else {
    text = `${stripZeros(mantissa)}E${formatExponent(exponent)}`;
  }
  return /[.Ee]/.test(text) ? text : `${text}.0`;
}

function formatExponent(e: number): string {
  const digits = String(Math.abs(e)).padStart(2, "0");
  return e < 0 ? `-${digits}` : `+${digits}`;
}

function stripZeros(fixed: string): string {
  if (!fixed.includes(".")) return fixed;
  return fixed.replace(/0+$/, "").replace(/\.$/, "");
}

const PLAIN_STRING = /^[\x20-\x7e]*$/;

const ESCAPES: Readonly<Record<number, string>> = {
  7: "\\a",
  8: "\\b",
  12: "\\f",
  10: "\\n",
  13: "\\r",
  9: "\\t",
  11: "\\v",
  92: "\\\\",
};

/**
 * Quoted text with `quote` as delimiter. New syntax escapes control characters and writes every
 * byte outside printable ASCII as 3-digit octal (`–` is `\342\200\223`); old syntax only escapes
 * the delimiter.
 */
export function quoteText(s: string, quote: '"' | "'", syntax: Syntax = "new"): string {
  if (syntax === "old") return quote + s.split(quote).join(`\\${quote}`) + quote;
  if (PLAIN_STRING.test(s) && !s.includes(quote) && !s.includes("\\")) return quote + s + quote;
  let out = quote;
  const q = quote.charCodeAt(0);
  for (const b of Buffer.from(s, "utf8")) {
    if (b === q) out += `\\${quote}`;
    else if (ESCAPES[b] !== undefined) out += ESCAPES[b];
    else if (b < 0x20 || b > 0x7e) out += `\\${b.toString(8).padStart(3, "0")}`;
    else out += String.fromCharCode(b);
  }
  return out + quote;
}

const RESERVED = new Set(["true", "false", "undefined", "error", "is", "isnt"]);
const PLAIN_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** An attribute name, quoted `'like this'` when it is not a plain identifier. */
export function unparseName(name: string): string {
  if (PLAIN_NAME.test(name) && !RESERVED.has(name.toLowerCase())) return name;
  return quoteText(name, "'");
}

/** Text of a value in ClassAd syntax (what `string()` gives for lists and ads). */
export function unparseValue(v: Value, syntax: Syntax = "new"): string {
  switch (typeof v) {
    case "symbol":
      return v === UNDEFINED ? "undefined" : v === ERROR ? "error" : "error";
    case "boolean":
      return v ? "true" : "false";
    case "number":
    case "bigint":
      return String(v);
    case "string":
      return quoteText(v, '"', syntax);
    default:
      if (v instanceof Real) return unparseReal(v.v, syntax);
      if (v instanceof ListValue) {
        return `{ ${v.items.map((item) => unparseValue(item, syntax)).join(",")} }`;
      }
      if (isClassAd(v) && "attributeExprs" in v) {
        return unparseAdBody((v as unknown as UnparsableAd).attributeExprs(), syntax);
      }
      return "[  ]";
  }
}

function unparseAdBody(
  attrs: Iterable<readonly [string, Expr]>,
  syntax: Syntax,
): string {
  const parts: string[] = [];
  for (const [name, expr] of attrs) parts.push(`${unparseName(name)} = ${unparseExpr(expr, syntax)}`);
  return `[ ${parts.join("; ")} ]`;
}

/** Text of an ad: `[ a = 1; b = 2 ]` (new) or one `Name = expr` line per attribute (old). */
export function unparseAd(ad: UnparsableAd, syntax: Syntax = "new"): string {
  if (syntax === "new") return unparseAdBody(ad.attributeExprs(), syntax);
  let out = "";
  for (const [name, expr] of ad.attributeExprs()) out += `${name} = ${unparseExpr(expr, "old")}\n`;
  return out;
}

/** Text of an expression; parentheses are those of the tree (kept from the source). */
export function unparseExpr(e: Expr, syntax: Syntax = "new"): string {
  switch (e.kind) {
    case "literal":
      return unparseValue(e.value, syntax);
    case "attr":
      return (e.absolute ? "." : "") + unparseName(e.name);
    case "select":
      return `${unparseExpr(e.base, syntax)}.${unparseName(e.name)}`;
    case "subscript":
      return `${unparseExpr(e.base, syntax)}[${unparseExpr(e.index, syntax)}]`;
    case "unary": {
      const operand = unparseExpr(e.operand, syntax);
      // `-` written against a number would lex as a negative literal (§1.4), so keep them apart.
      if (e.op === "-" && /^[0-9.]/.test(operand)) return `- ${operand}`;
      return e.op + operand;
    }
    case "binary": {
      let op: string = e.op;
      if (syntax === "new" && op === "=?=") op = "is";
      else if (syntax === "new" && op === "=!=") op = "isnt";
      return `${unparseExpr(e.left, syntax)} ${op} ${unparseExpr(e.right, syntax)}`;
    }
    case "ternary":
      return `${unparseExpr(e.cond, syntax)} ? ${unparseExpr(e.then, syntax)} : ${unparseExpr(e.otherwise, syntax)}`;
    case "elvis":
      return `${unparseExpr(e.left, syntax)} ?: ${unparseExpr(e.right, syntax)}`;
    case "paren":
      return `(${unparseExpr(e.inner, syntax)})`;
    case "call":
      return `${e.name}(${e.args.map((a) => unparseExpr(a, syntax)).join(",")})`;
    case "list":
      return `{ ${e.items.map((item) => unparseExpr(item, syntax)).join(",")} }`;
    case "classad":
      return unparseAdBody(e.attrs, syntax);
  }
}
