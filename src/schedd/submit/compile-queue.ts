/**
 * One `queue` statement to its jobs. Commands whose values use a per-job macro ($(Process),
 * $(Item), a queue variable...) directly or through other macros are recomputed per job; every
 * other attribute is computed once and shared by all the jobs of the statement.
 */
import { parseExpressionPrefix, tryParse, unparseExpr } from "../../classad/index.js";
import { canonicalCommand, customAttributeName } from "./commands.js";
import type { CompileEnv, DeriveContext, Derivation } from "./derive-context.js";
import { FILE_DERIVATIONS } from "./derive-files.js";
import { ACCEPTED_DERIVATIONS } from "./accepted-commands.js";
import { POLICY_DERIVATIONS, customAttribute } from "./derive-policy.js";
import { PROXY_DERIVATIONS } from "./derive-proxy.js";
import { type AttrPair, JobAdText, type LayoutSegment } from "./job-ad-text.js";
import {
  type ExpandOptions,
  type Template,
  expandMacros,
  macroOutsideString,
  macroReferences,
  type MacroLookup,
} from "./macros.js";
import { planQueue } from "./queue-statement.js";
import type { Assignment, QueueStatement } from "./statements.js";

/** Collects errors once each (a per-job error would otherwise repeat for every job). */
export class ErrorSink {
  private readonly seen = new Set<string>();
  readonly list: { file: string; line: number; message: string; seq: number }[] = [];

  add(file: string, line: number, message: string): void {
    const key = `${file}\0${line}\0${message}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.list.push({ file, line, message, seq: this.list.length });
  }
}

/** State shared by every queue statement of one file. */
export interface CompileState {
  readonly env: CompileEnv;
  readonly errors: ErrorSink;
  readonly jobs: JobAdText[];
  nextProc: number;
  /** Expression text to its normalised text, or the parse error detail and column. */
  readonly parsed: Map<string, { text: string } | { detail: string; column: number }>;
  readonly exists: Map<string, boolean>;
  readonly templates: Map<string, Template>;
}

/** Commands whose value must not silently lose an undefined macro. */
const REQUIRED_VALUES = new Set(["executable"]);

const PER_JOB_MACROS = ["process", "procid", "step", "itemindex", "row", "node"];
const MATCH_TIME = /\$\$\([^)]*\)/g;

class Context implements DeriveContext {
  private readonly values = new Map<string, string | undefined>();
  /** Where emitted attributes go: name, text, name, text... */
  private out: (string | null)[] = [];

  constructor(
    private readonly state: CompileState,
    private readonly settings: ReadonlyMap<string, Assignment>,
    private readonly queue: QueueStatement,
    lookup: MacroLookup,
    private readonly customNames: ReadonlySet<string>,
  ) {
    this.expandOptions = { lookup, environ: state.env.environ, templates: state.templates };
    this.strictOptions = { ...this.expandOptions, strict: true };
  }

  private readonly expandOptions: ExpandOptions;
  private readonly strictOptions: ExpandOptions;

  /** Whether the derivation running now is a custom attribute (which may shadow a computed one). */
  private custom = false;

  /** Forget the values expanded for the previous job. */
  reset(): void {
    this.values.clear();
  }

  get env(): CompileEnv {
    return this.state.env;
  }

  /** Start a derivation; what it emits lands in `out`. */
  begin(custom: boolean, out: (string | null)[]): void {
    this.out = out;
    this.custom = custom;
  }

  isSet(key: string): boolean {
    return this.settings.has(key);
  }

  value(key: string): string | undefined {
    if (this.values.has(key)) return this.values.get(key);
    const assignment = this.settings.get(key);
    let result: string | undefined;
    if (assignment !== undefined) {
      const expanded = expandMacros(
        assignment.value,
        REQUIRED_VALUES.has(key) ? this.strictOptions : this.expandOptions,
      );
      if (expanded.ok) result = expanded.text.trim();
      else this.fail(key, expanded.message);
    }
    this.values.set(key, result);
    return result;
  }

  emit(name: string, text: string): void {
    // A custom attribute of the same name replaces the one submit would compute.
    if (!this.custom && this.customNames.has(name.toLowerCase())) return;
    this.out.push(name, text);
  }

  fail(key: string | null, message: string): void {
    const at = key === null ? undefined : this.settings.get(key);
    const where = at ?? this.queue;
    this.state.errors.add(where.file, where.line, message);
  }

  expression(key: string, text: string): string | undefined {
    const outside = text.includes("$$(") ? macroOutsideString(text) : undefined;
    if (outside !== undefined) {
      const written = this.settings.get(key)?.key ?? key;
      const custom = customAttributeName(written) !== null;
      this.fail(
        key,
        `${outside} in ${written} is outside a string, which no ClassAd expression can hold (condor_submit refuses it too): ` +
          (custom
            ? `write ${written} = "${outside}" to get the slot's value as a string at the match`
            : `$$() is filled at the match inside string values (arguments, environment, "..." in an expression)`),
      );
      return undefined;
    }
    let result = this.state.parsed.get(text);
    if (result === undefined) {
      // $$(Attr) is filled in at match time, so only the rest has to parse now.
      const matchTime = text.includes("$$(");
      const probe = matchTime ? text.replace(MATCH_TIME, "MatchTimeValue") : text;
      // Submit files write strings in the old ClassAd syntax: a backslash is literal unless it
      // escapes a quote (so Windows paths need no doubling).
      const parsed = tryParse(() => parseExpressionPrefix(probe, { oldStrings: true }));
      const rest = parsed.ok ? probe.slice(parsed.value.end) : "";
      if (!parsed.ok) result = { detail: parsed.error.detail, column: parsed.error.column };
      else if (rest.trim() !== "") {
        const junk = rest.trim();
        result = {
          detail: `unexpected '${junk.length > 20 ? `${junk.slice(0, 20)}...` : junk}' after the expression`,
          column: parsed.value.end + rest.length - rest.trimStart().length + 1,
        };
      } else result = { text: matchTime ? text : unparseExpr(parsed.value.expr) };
      this.state.parsed.set(text, result);
    }
    if ("text" in result) return result.text;
    const column = (this.settings.get(key)?.valueColumn ?? 1) + result.column - 1;
    const written = this.settings.get(key)?.key ?? key;
    this.fail(key, `bad expression for ${written} at column ${column}: ${result.detail}`);
    return undefined;
  }

  exists(path: string): boolean {
    const check = this.state.env.fileExists;
    if (check === undefined) return true;
    let found = this.state.exists.get(path);
    if (found === undefined) {
      found = check(path);
      this.state.exists.set(path, found);
    }
    return found;
  }
}

/** Which settings depend, directly or through other macros, on a per-job name. */
function perJobKeys(
  settings: ReadonlyMap<string, Assignment>,
  perJob: ReadonlySet<string>,
): Set<string> {
  const memo = new Map<string, boolean>();
  const visit = (key: string): boolean => {
    const known = memo.get(key);
    if (known !== undefined) return known;
    memo.set(key, false); // breaks cycles; expansion reports them
    const assignment = settings.get(key);
    const refs = assignment === undefined ? [] : macroReferences(assignment.value);
    const result = refs.some((r) => perJob.has(r) || (settings.has(r) && visit(r)));
    memo.set(key, result);
    return result;
  };
  const keys = new Set<string>();
  for (const key of settings.keys()) if (visit(key)) keys.add(key);
  return keys;
}

export function compileQueue(
  queue: QueueStatement,
  settings: ReadonlyMap<string, Assignment>,
  state: CompileState,
): void {
  const { env } = state;
  const cluster = String(env.clusterId);
  const baseLookup: MacroLookup = (name) => {
    if (name === "cluster" || name === "clusterid") return cluster;
    const own = settings.get(name);
    if (own !== undefined) return own.value;
    // `$(RequestMemory)` after `RequestMemory = 2048`, kept under its command's name.
    const aliased = settings.get(canonicalCommand(name));
    return aliased?.key.toLowerCase() === name ? aliased.value : undefined;
  };

  const args = expandMacros(queue.args, { lookup: baseLookup, environ: env.environ, strict: true });
  if (!args.ok) {
    state.errors.add(queue.file, queue.line, args.message);
    return;
  }
  const planned = planQueue(args.text, queue.block, env);
  if (!planned.ok) {
    state.errors.add(queue.file, queue.line, planned.message);
    return;
  }
  const plan = planned.plan;
  const varNames = plan.vars.map((v) => v.toLowerCase());
  const perJob = perJobKeys(settings, new Set([...PER_JOB_MACROS, ...varNames]));

  const customs = new Map<string, { key: string; name: string }>();
  for (const key of settings.keys()) {
    const name = customAttributeName(settings.get(key)?.key ?? key);
    if (name !== null) {
      customs.delete(name.toLowerCase());
      customs.set(name.toLowerCase(), { key, name });
    }
  }
  const derivations: { d: Derivation; custom: boolean }[] = [
    ...[
      ...FILE_DERIVATIONS,
      ...POLICY_DERIVATIONS,
      ...PROXY_DERIVATIONS,
      ...ACCEPTED_DERIVATIONS,
    ].map((d) => ({
      d,
      custom: false,
    })),
    ...[...customs.values()].map((c) => ({ d: customAttribute(c.key, c.name), custom: true })),
  ];
  const customNames = new Set(customs.keys());

  // Shared part: computed once with no per-job macro in scope.
  const staticCtx = new Context(state, settings, queue, baseLookup, customNames);
  const layout: LayoutSegment[] = [];
  const dynamic: { d: Derivation; custom: boolean }[] = [];
  let shared: AttrPair[] = [];
  for (const entry of derivations) {
    if (entry.d.perJob || entry.d.inputs.some((k) => perJob.has(k))) {
      if (shared.length > 0) layout.push(shared);
      shared = [];
      layout.push("own");
      dynamic.push(entry);
      continue;
    }
    const out: (string | null)[] = [];
    staticCtx.begin(entry.custom, out);
    entry.d.derive(staticCtx, -1);
    for (let i = 0; i < out.length; i += 2) shared.push([out[i] as string, out[i + 1] as string]);
  }
  if (shared.length > 0) layout.push(shared);

  // One context and one lookup serve every job: per-job state lives in these variables, which
  // keeps a large cluster from allocating a closure and a context per job.
  let proc = 0;
  let procText = "0";
  let step = 0;
  let index = 0;
  let row: readonly string[] | null = null;
  const lookup: MacroLookup = (name) => {
    switch (name) {
      case "process":
      case "procid":
      case "node":
        return procText;
      case "step":
        return String(step);
      case "itemindex":
      case "row":
        return String(index);
    }
    if (row !== null) {
      const v = varNames.indexOf(name);
      if (v >= 0) return row[v] ?? "";
    }
    return baseLookup(name);
  };
  const ctx = new Context(state, settings, queue, lookup, customNames);
  for (index of plan.selected) {
    row = plan.items === null ? null : plan.items[index];
    for (step = 0; step < plan.count; step++) {
      proc = state.nextProc++;
      ctx.reset();
      procText = String(proc);
      const own: (string | null)[] = [];
      for (const entry of dynamic) {
        ctx.begin(entry.custom, own);
        entry.d.derive(ctx, proc);
        own.push(null);
      }
      state.jobs.push(new JobAdText(proc, layout, own));
    }
  }
}
