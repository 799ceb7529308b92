/**
 * Printed forms of compiled jobs: the old ClassAd long form (`condor_submit -dry-run`,
 * `condor_q -long`: one `Name = expr` per line, ads separated by a blank line) and JSON
 * (literals as JSON values, other expressions as `"\/Expr(...)\/"`, as condor_q -json).
 */
import {
  type Expr,
  exprJson,
  exprMarker,
  parseExpression,
  unparseExpr,
} from "../../classad/index.js";
import type { SubmitError } from "./compile-submit.js";
import type { JobAdText } from "./job-ad-text.js";

/** Plain strings and integers read the same in both syntaxes; most per-job values are these. */
const PLAIN_STRING = /^"[\x20-\x21\x23-\x5b\x5d-\x7e]*"$/;
const PLAIN_INTEGER = /^-?(?:0|[1-9][0-9]{0,14})$/;

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

/** A JSON array of objects, one per job, as condor_q -json writes them, in pieces. */
export function* jsonChunks(jobs: readonly JobAdText[]): Generator<string> {
  // A plain string or integer is its own JSON text; the rest are parsed once per distinct text.
  const values = new TextCache(
    (text) => {
      const e = parseOrNull(text);
      return e === null ? exprMarker(text) : exprJson(e, "    ");
    },
    (text) => (PLAIN_STRING.test(text) || PLAIN_INTEGER.test(text) ? text : undefined),
  );
  const names = new Map<string, string>();
  const nameJson = (n: string) => {
    let j = names.get(n);
    if (j === undefined) names.set(n, (j = JSON.stringify(n)));
    return j;
  };
  if (jobs.length === 0) {
    yield "[]\n";
    return;
  }
  for (let start = 0; start < jobs.length; start += CHUNK) {
    let chunk = start === 0 ? "[\n" : "";
    const end = Math.min(start + CHUNK, jobs.length);
    for (let i = start; i < end; i++) {
      const lines: string[] = [];
      for (const [name, text] of jobs[i]) lines.push(`    ${nameJson(name)}: ${values.get(text)}`);
      chunk += `  {\n${lines.join(",\n")}\n  }${i === jobs.length - 1 ? "\n]\n" : ",\n"}`;
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
