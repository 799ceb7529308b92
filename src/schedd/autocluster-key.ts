/**
 * Autocluster keys computed from expression texts, with every parse cached by text: jobs of one
 * cluster share most texts, so a 100,000-job submit parses each distinct expression once instead
 * of every job's ad. The key holds the text of each significant attribute and, transitively, of
 * every job attribute those texts name (so `RequestMemory = ImageSize * 2` separates jobs by
 * ImageSize), like the engine's `signature`, but compared as written rather than normalised.
 */
import { parseExpression, references } from "../classad/index.js";
import { lowerName, type JobAttrs } from "./job-status.js";

const NO_NAMES: readonly string[] = [];
const CACHE_LIMIT = 100_000;
const SIMPLE_LITERAL = /^(?:-?\d{1,15}|"[^"\\]{0,200}"|true|false)$/;

export class AutoclusterKeys {
  /** text -> lower-case names it reads (undefined: not parsable). */
  private readonly namesOf = new Map<string, readonly string[] | undefined>();

  constructor(private significant: readonly string[]) {}

  setSignificant(names: readonly string[]): void {
    this.significant = names;
  }

  /** Names an expression text reads; undefined when it does not parse. */
  names(text: string): readonly string[] | undefined {
    // Plain literals (most per-job values: numbers, simple strings) read nothing.
    if (SIMPLE_LITERAL.test(text)) return NO_NAMES;
    if (this.namesOf.has(text)) return this.namesOf.get(text);
    let out: readonly string[] | undefined;
    try {
      const refs = references(parseExpression(text), null);
      out = refs.external.size === 0 ? NO_NAMES : [...refs.external];
    } catch {
      out = undefined;
    }
    if (this.namesOf.size >= CACHE_LIMIT) this.namesOf.clear();
    this.namesOf.set(text, out);
    return out;
  }

  /** True when every attribute's text parses (checked once per distinct text). */
  valid(attrs: JobAttrs): string | undefined {
    for (const [name, text] of Object.entries(attrs)) {
      if (this.names(text) === undefined) return name;
    }
    return undefined;
  }

  key(attrs: JobAttrs): string {
    const lower = new Map<string, string>();
    for (const k in attrs) lower.set(lowerName(k), attrs[k]!);
    const seen = new Set<string>(this.significant);
    const todo = [...this.significant];
    for (let i = 0; i < todo.length; i++) {
      const text = lower.get(todo[i]!);
      if (text === undefined) continue;
      for (const n of this.names(text) ?? NO_NAMES) {
        if (!seen.has(n) && lower.has(n)) {
          seen.add(n);
          todo.push(n);
        }
      }
    }
    todo.sort();
    let out = "";
    for (const n of todo) out += `${n}=${lower.get(n) ?? ""}\n`;
    return out;
  }
}
