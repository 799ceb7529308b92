/**
 * Printed forms of compiled jobs: the old ClassAd long form (`condor_submit -dry-run`,
 * `condor_q -long`: one `Name = expr` per line, ads separated by a blank line) and JSON
 * (literals as JSON values, other expressions as their text).
 */
import { type Expr, Real, parseExpression, unparseExpr } from "../../classad/index.js";
import type { SubmitError } from "./compile-submit.js";
import type { JobAdText } from "./job-ad-text.js";

/** Parses each distinct text once: most attributes repeat across the jobs of a cluster. */
class TextCache<T> {
  private readonly map = new Map<string, T>();
  constructor(private readonly convert: (text: string) => T) {}
  get(text: string): T {
    let v = this.map.get(text);
    if (v === undefined) {
      v = this.convert(text);
      this.map.set(text, v);
    }
    return v;
  }
}

function parseOrNull(text: string): Expr | null {
  try {
    return parseExpression(text);
  } catch {
    // Texts holding $$(Attr) stay unparsed until match time; print them as they are.
    return null;
  }
}

export function formatLongForm(jobs: readonly JobAdText[]): string {
  const old = new TextCache((text) => {
    const e = parseOrNull(text);
    return e === null ? text : unparseExpr(e, "old");
  });
  const ads: string[] = [];
  for (const job of jobs) {
    let ad = "";
    for (const [name, text] of job) ad += `${name} = ${old.get(text)}\n`;
    ads.push(ad);
  }
  return ads.join("\n");
}

type JsonScalar = string | number | boolean | null;

function literalJson(e: Expr | null, text: string): { value: JsonScalar } {
  if (e?.kind !== "literal") return { value: text };
  const v = e.value;
  if (typeof v === "string" || typeof v === "boolean" || typeof v === "number") return { value: v };
  if (typeof v === "bigint") return { value: Number(v) };
  if (v instanceof Real && Number.isFinite(v.v)) return { value: v.v };
  return { value: text };
}

/** A JSON array of objects, one per job, attribute to value. */
export function formatJson(jobs: readonly JobAdText[]): string {
  const values = new TextCache((text) => literalJson(parseOrNull(text), text));
  const out = jobs.map((job) => {
    const obj: Record<string, JsonScalar> = {};
    for (const [name, text] of job) obj[name] = values.get(text).value;
    return obj;
  });
  return `${JSON.stringify(out, null, 2)}\n`;
}

/** `FILE:LINE: message`, one per line. */
export function formatErrors(errors: readonly SubmitError[]): string {
  return errors.map((e) => `${e.file}:${e.line}: ${e.message}\n`).join("");
}
