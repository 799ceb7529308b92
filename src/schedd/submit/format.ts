/**
 * Printed forms of compiled jobs: the old ClassAd long form (`condor_submit -dry-run`,
 * `condor_q -long`: one `Name = expr` per line, ads separated by a blank line) and JSON
 * (literals as JSON values, other expressions as their text).
 */
import { type Expr, Real, parseExpression, unparseExpr } from "../../classad/index.js";
import type { SubmitError } from "./compile-submit.js";
import type { JobAdText } from "./job-ad-text.js";

/** Plain strings and integers read the same in both syntaxes; most per-job values are these. */
const PLAIN_STRING = /^"[\x20-\x21\x23-\x5b\x5d-\x7e]*"$/;
const PLAIN_INTEGER = /^-?[0-9]{1,15}$/;

/** Parses each distinct text once: most attributes repeat across the jobs of a cluster. */
class TextCache<T> {
  private readonly map = new Map<string, T>();
  constructor(
    private readonly convert: (text: string) => T,
    private readonly plain: (text: string) => T | undefined,
  ) {}
  get(text: string): T {
    const fast = this.plain(text);
    if (fast !== undefined) return fast;
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

/** Jobs per chunk when printing: large clusters are written piece by piece, never as one string. */
const CHUNK = 2000;

/** The long form in pieces: ads end with a newline and are separated by a blank line. */
export function* longFormChunks(jobs: readonly JobAdText[]): Generator<string> {
  const old = new TextCache(
    (text) => {
      const e = parseOrNull(text);
      return e === null ? text : unparseExpr(e, "old");
    },
    (text) => (PLAIN_STRING.test(text) || PLAIN_INTEGER.test(text) ? text : undefined),
  );
  for (let start = 0; start < jobs.length; start += CHUNK) {
    let chunk = "";
    for (const job of jobs.slice(start, start + CHUNK)) {
      if (job !== jobs[0]) chunk += "\n";
      for (const [name, text] of job) chunk += `${name} = ${old.get(text)}\n`;
    }
    yield chunk;
  }
}

export function formatLongForm(jobs: readonly JobAdText[]): string {
  return [...longFormChunks(jobs)].join("");
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

/** A JSON array of objects, one per job, attribute to value, in pieces. */
export function* jsonChunks(jobs: readonly JobAdText[]): Generator<string> {
  const values = new TextCache(
    (text) => literalJson(parseOrNull(text), text),
    (text) =>
      PLAIN_STRING.test(text)
        ? { value: text.slice(1, -1) }
        : PLAIN_INTEGER.test(text)
          ? { value: Number(text) }
          : undefined,
  );
  if (jobs.length === 0) {
    yield "[]\n";
    return;
  }
  for (let start = 0; start < jobs.length; start += CHUNK) {
    let chunk = start === 0 ? "[\n" : "";
    const end = Math.min(start + CHUNK, jobs.length);
    for (let i = start; i < end; i++) {
      const obj: Record<string, JsonScalar> = {};
      for (const [name, text] of jobs[i]) obj[name] = values.get(text).value;
      const text = JSON.stringify(obj, null, 2).replace(/\n/g, "\n  ");
      chunk += `  ${text}${i === jobs.length - 1 ? "\n]\n" : ",\n"}`;
    }
    yield chunk;
  }
}

export function formatJson(jobs: readonly JobAdText[]): string {
  return [...jsonChunks(jobs)].join("");
}

/** `FILE:LINE: message`, one per line. */
export function formatErrors(errors: readonly SubmitError[]): string {
  return errors.map((e) => `${e.file}:${e.line}: ${e.message}\n`).join("");
}

/** condor_submit's `WARNING: ...` lines, each naming the file and line it is about. */
export function formatWarnings(warnings: readonly SubmitError[]): string {
  return warnings.map((e) => `${e.file}:${e.line}: WARNING: ${e.message}\n`).join("");
}
