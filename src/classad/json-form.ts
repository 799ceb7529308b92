/**
 * ClassAds in JSON as HTCondor writes them (condor_q -json, condor_status -json; its
 * ClassAdJsonUnParser): literals typed (an integer a number, a real a number with a `.0` or an
 * exponent, `undefined` null), lists arrays, nested ads objects, and every other expression a
 * string `"\/Expr(...)\/"` in the JSON text, which decodes to `/Expr(...)/`. JSON.stringify cannot
 * write `\/`, so the text is built here.
 */
import type { Expr } from "./ast.js";
import { unparseExpr, unparseReal, unparseValue } from "./unparse.js";
import { ERROR, ListValue, Real, UNDEFINED, type Value } from "./value.js";

/** `"\/Expr(text)\/"`, the text escaped as a JSON string. */
export function exprMarker(text: string): string {
  return `"\\/Expr(${JSON.stringify(text).slice(1, -1)})\\/"`;
}

/** A real as HTCondor's JSON has it: `%.16G` with `.0` if that looks like an integer. */
function realJson(x: number): string {
  if (!Number.isFinite(x)) return exprMarker(unparseReal(x));
  return unparseReal(x, "old");
}

/** One value (an evaluated one, or a literal's) as JSON text. */
export function valueJson(v: Value, indent = ""): string {
  if (v === UNDEFINED) return "null";
  if (v === ERROR) return exprMarker("error");
  switch (typeof v) {
    case "string":
      return JSON.stringify(v);
    case "boolean":
    case "bigint":
      return String(v);
    case "number":
      return String(v);
  }
  if (v instanceof Real) return realJson(v.v);
  if (v instanceof ListValue) return arrayJson(v.items, (item, i) => valueJson(item, i), indent);
  if (typeof v === "object" && "attributeExprs" in v) {
    const entries = (v as { attributeExprs(): Iterable<readonly [string, Expr]> }).attributeExprs();
    return objectJson(entries, indent);
  }
  // absTime and relTime values, as HTCondor: an expression that rebuilds them.
  return exprMarker(unparseValue(v));
}

/** One expression as JSON text: literals, lists and ads typed, the rest marked as expressions. */
export function exprJson(e: Expr, indent = ""): string {
  switch (e.kind) {
    case "literal":
      return valueJson(e.value, indent);
    case "list":
      return arrayJson(e.items, (item, i) => exprJson(item, i), indent);
    case "classad":
      return objectJson(e.attrs, indent);
    default:
      return exprMarker(unparseExpr(e));
  }
}

function arrayJson<T>(
  items: readonly T[],
  one: (item: T, indent: string) => string,
  indent: string,
): string {
  if (items.length === 0) return "[]";
  const inner = `${indent}  `;
  return `[\n${items.map((item) => `${inner}${one(item, inner)}`).join(",\n")}\n${indent}]`;
}

/** An ad as a JSON object, attributes in the order given, `indent` being the object's own. */
export function objectJson(
  entries: Iterable<readonly [string, Expr]>,
  indent = "",
  value: (e: Expr, indent: string) => string = exprJson,
): string {
  const inner = `${indent}  `;
  const lines: string[] = [];
  for (const [name, expr] of entries) {
    lines.push(`${inner}${JSON.stringify(name)}: ${value(expr, inner)}`);
  }
  return lines.length === 0 ? "{}" : `{\n${lines.join(",\n")}\n${indent}}`;
}

/** A JSON array of ads, one object each, as `condor_q -json` prints a query. */
export function adsJson(ads: Iterable<Iterable<readonly [string, Expr]>>): string {
  const objects: string[] = [];
  for (const ad of ads) objects.push(`  ${objectJson(ad, "  ")}`);
  return objects.length === 0 ? "[]\n" : `[\n${objects.join(",\n")}\n]\n`;
}
