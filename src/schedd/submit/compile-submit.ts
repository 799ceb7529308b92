/**
 * condor_submit's language, compiled without a daemon: a submit description to the job ads it
 * would queue, or every error found in it (and then no job at all). Pure: files are read only
 * through the functions in the options, and the clock and ids come from the caller, so the
 * schedd's submit RPC and `updraft submit --dry-run` share this one function.
 */
import { acceptedWarning } from "./accepted-commands.js";
import {
  canonicalCommand,
  closestCommand,
  customAttributeName,
  isKnownCommand,
} from "./commands.js";
import { type CompileState, ErrorSink, compileQueue } from "./compile-queue.js";
import type { CompileEnv, ResourceDefaults } from "./derive-context.js";
import type { JobAdText } from "./job-ad-text.js";
import { applyDirectives } from "./directives.js";
import { macroReferences } from "./macros.js";
import { type Assignment, type Statement, parseStatements, sourceLines } from "./statements.js";

export interface CompileSubmitOptions extends Omit<CompileEnv, "defaults"> {
  /** Extra commands (`-append`), taken to stand just before the first queue statement. */
  readonly appendLines?: readonly string[];
  /** Resource requests for jobs that give none. */
  readonly defaults?: Partial<ResourceDefaults>;
}

export interface SubmitError {
  readonly file: string;
  readonly line: number;
  readonly message: string;
}

/**
 * Warnings (`warnings`) are what condor_submit prints as WARNING and submits anyway: a line no
 * command used (a typo, most likely), a command Updraft accepts without acting on.
 */
export type CompileResult =
  | { readonly ok: true; readonly jobs: JobAdText[]; readonly warnings: SubmitError[] }
  | { readonly ok: false; readonly errors: SubmitError[]; readonly warnings: SubmitError[] };

/** A job that asks for nothing still needs a slot of some size; these keep matching meaningful. */
export const DEFAULT_RESOURCES: ResourceDefaults = { cpus: 1, memoryMiB: 1024, diskKiB: 1048576 };

export const APPEND_FILE = "-append";

function withAppended(statements: Statement[], appendLines: readonly string[]): Statement[] {
  if (appendLines.length === 0) return statements;
  const extra = parseStatements(
    appendLines.map((text, i) => ({ file: APPEND_FILE, line: i + 1, text })),
  );
  const firstQueue = statements.findIndex((s) => s.kind === "queue");
  const at = firstQueue < 0 ? statements.length : firstQueue;
  // As with condor_submit -queue, an appended queue statement is for files that have none.
  const checked: Statement[] = extra.map((s) =>
    s.kind === "queue" && firstQueue >= 0
      ? {
          kind: "bad",
          file: s.file,
          line: s.line,
          message: "-append gives a queue statement but the file has one",
        }
      : s,
  );
  return [...statements.slice(0, at), ...checked, ...statements.slice(at)];
}

/**
 * Assignments that are neither commands nor used as macros: typos, most likely. condor_submit
 * warns about them and submits; so does this, naming the line and the closest command.
 */
function unusedLines(statements: readonly Statement[], warnings: ErrorSink): void {
  const used = new Set<string>();
  for (const s of statements) {
    const text = s.kind === "assign" ? s.value : s.kind === "queue" ? s.args : "";
    for (const name of macroReferences(text)) used.add(name);
  }
  for (const s of statements) {
    if (s.kind !== "assign") continue;
    const key = canonicalCommand(s.key);
    if (customAttributeName(s.key) !== null) continue;
    const accepted = acceptedWarning(s.key, key);
    if (accepted !== undefined) {
      warnings.add(s.file, s.line, accepted);
      continue;
    }
    if (isKnownCommand(key) || used.has(key) || used.has(s.key.toLowerCase())) continue;
    const hint = closestCommand(key);
    warnings.add(
      s.file,
      s.line,
      `the line '${s.key} = ${s.value}' was unused by updraft submit. Is it a typo?` +
        (hint === undefined ? "" : ` (did you mean '${hint}'?)`),
    );
  }
}

/** Errors or warnings in file order, those of the submit file first (then -append's). */
function ordered(sink: ErrorSink, file: string): SubmitError[] {
  const rank = (f: string): number => (f === file ? 0 : 1);
  return [...sink.list]
    .sort((a, b) => rank(a.file) - rank(b.file) || a.line - b.line || a.seq - b.seq)
    .map(({ file, line, message }) => ({ file, line, message }));
}

export function compileSubmit(text: string, options: CompileSubmitOptions): CompileResult {
  const { appendLines = [], defaults, ...rest } = options;
  const env: CompileEnv = { ...rest, defaults: { ...DEFAULT_RESOURCES, ...defaults } };
  const parsed = withAppended(parseStatements(sourceLines(text, env.file)), appendLines);
  const resolved = applyDirectives(parsed, env);
  const statements = resolved.statements;
  const state: CompileState = {
    env,
    errors: new ErrorSink(),
    jobs: [],
    nextProc: 0,
    parsed: new Map(),
    exists: new Map(),
    templates: new Map(),
  };
  // Each queue statement sees the settings above it; a later value of a key replaces the earlier.
  const settings = new Map<string, Assignment>();
  let queues = 0;
  for (const s of statements) {
    if (s.kind === "bad") state.errors.add(s.file, s.line, s.message);
    else if (s.kind === "assign") {
      const key = canonicalCommand(s.key);
      settings.delete(key);
      settings.set(key, s);
    } else if (s.kind === "queue") {
      queues++;
      compileQueue(s, new Map(settings), state);
    }
  }
  const warnings = new ErrorSink();
  for (const e of resolved.errors) state.errors.add(e.file, e.line, e.message);
  for (const w of resolved.warnings) warnings.add(w.file, w.line, w.message);
  unusedLines(statements, warnings);
  if (queues === 0) {
    const last = statements.length === 0 ? 1 : statements[statements.length - 1].line;
    state.errors.add(env.file, last, "no 'queue' statement: nothing would be submitted");
  }
  if (state.errors.list.length > 0) {
    return {
      ok: false,
      errors: ordered(state.errors, env.file),
      warnings: ordered(warnings, env.file),
    };
  }
  return { ok: true, jobs: state.jobs, warnings: ordered(warnings, env.file) };
}
