/**
 * The submit file's directives, resolved in reading order as condor_submit does: `include
 * [ifexist] : FILE` reads another file in place (relative names from the directory submit runs
 * in), `if`/`elif`/`else`/`endif` keep or drop what they enclose, `error : text` stops the
 * submit and `warning : text` prints a warning. A condition is read after macro expansion (only
 * macros defined above it count): `true`/`false`/`yes`/`no`/a number, `defined NAME`,
 * `version >= 24.0`, or a ClassAd expression that gives a boolean; `!` negates it.
 * Pure: files are read through the injected reader.
 */
import { posix } from "node:path";
import { ClassAd, Real, parseExpression, tryParse } from "../../classad/index.js";
import { canonicalCommand } from "./commands.js";
import { expandMacros } from "./macros.js";
import { type Assignment, type Statement, parseStatements, sourceLines } from "./statements.js";

/** The HTCondor version whose submit language Updraft follows, for `if version >= X`. */
export const SUBMIT_LANGUAGE_VERSION: readonly [number, number, number] = [24, 0, 0];

const MAX_INCLUDE_DEPTH = 20;
const MAX_IF_DEPTH = 63;

export interface DirectiveEnv {
  readonly cwd: string;
  readonly readFile?: (path: string) => string | undefined;
  readonly environ?: Readonly<Record<string, string | undefined>>;
}

export interface Resolved {
  /** Assignments, queue statements and parse errors: no directive is left. */
  readonly statements: Statement[];
  readonly errors: { file: string; line: number; message: string }[];
  readonly warnings: { file: string; line: number; message: string }[];
}

type Verdict = { ok: true; value: boolean } | { ok: false; message: string };

const BOOLS: Readonly<Record<string, boolean>> = {
  true: true,
  yes: true,
  t: true,
  false: false,
  no: false,
  f: false,
};

function compareVersion(op: string, text: string): Verdict {
  const m = /^v?(\d+)\.(\d+)(?:\.(\d+))?$/i.exec(text.trim());
  if (!m) return { ok: false, message: `'${text.trim()}' is not a version such as 24.0 or 8.9.11` };
  const want = [
    Number(m[1]),
    Number(m[2]),
    m[3] === undefined ? SUBMIT_LANGUAGE_VERSION[2] : Number(m[3]),
  ];
  let diff = 0;
  for (let i = 0; i < 3 && diff === 0; i++)
    diff = Math.sign(SUBMIT_LANGUAGE_VERSION[i]! - want[i]!);
  const negated = op.startsWith("!");
  const core = negated ? op.slice(1) : op;
  const value =
    core === "==" || core === "="
      ? diff === 0
      : core === ">="
        ? diff >= 0
        : core === "<="
          ? diff <= 0
          : core === ">"
            ? diff > 0
            : diff < 0;
  return { ok: true, value: negated ? !value : value };
}

/** An expanded condition (without its leading `!`). */
function evaluateCondition(text: string, defined: (name: string) => boolean): Verdict {
  const lower = text.toLowerCase();
  if (lower in BOOLS) return { ok: true, value: BOOLS[lower]! };
  if (/^[+-]?(\d+\.?\d*|\.\d+)$/.test(text)) return { ok: true, value: Number(text) !== 0 };
  const def = /^defined(?:\s+(.*))?$/i.exec(text);
  if (def) {
    const name = (def[1] ?? "").trim();
    if (name === "") return { ok: true, value: false };
    if (/^[A-Za-z_][A-Za-z0-9_.]*$/.test(name)) return { ok: true, value: defined(name) };
    if (name.toLowerCase() in BOOLS || /^[+-]?\d/.test(name)) return { ok: true, value: true };
    return { ok: false, message: "defined takes a macro name, a boolean or a number" };
  }
  const ver = /^version\s*(!?(?:==|>=|<=|=|>|<))\s*(.*)$/i.exec(text);
  if (ver) return compareVersion(ver[1]!, ver[2]!);
  const parsed = tryParse(() => parseExpression(text));
  if (parsed.ok) {
    const v = new ClassAd().evaluateExpr(parsed.value);
    if (typeof v === "boolean") return { ok: true, value: v };
    if (typeof v === "number" || typeof v === "bigint") return { ok: true, value: Number(v) !== 0 };
    if (v instanceof Real) return { ok: true, value: v.v !== 0 };
  }
  return {
    ok: false,
    message: `'${text}' is not a condition (use true/false, a number, defined NAME, version >= X.Y, or a boolean expression)`,
  };
}

/**
 * `requirements = $(requirements) && (Memory > 2000)`: a macro that names itself means the value
 * it had above, as in condor_submit (nothing when it had none, or the default given).
 */
function selfReferenced(s: Assignment, previous: string | undefined): Assignment {
  if (!s.value.includes("$")) return s;
  const names = [...new Set([s.key.toLowerCase(), canonicalCommand(s.key)])];
  let value = s.value;
  for (const name of names) {
    const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    const self = new RegExp(`(?<!\\$)\\$\\(\\s*${escaped}\\s*(?::([^)]*))?\\)`, "gi");
    value = value.replace(self, (_m, fallback: string | undefined) => previous ?? fallback ?? "");
  }
  return value === s.value ? s : { ...s, value };
}

interface Frame {
  readonly file: string;
  readonly line: number;
  /** Whether the enclosing frames are all taking their branch. */
  readonly outer: boolean;
  /** Whether this frame's current branch is taken. */
  taking: boolean;
  /** Whether some branch of this if/elif chain was taken already. */
  taken: boolean;
  sawElse: boolean;
}

export function applyDirectives(first: readonly Statement[], env: DirectiveEnv): Resolved {
  const out: Statement[] = [];
  const errors: Resolved["errors"] = [];
  const warnings: Resolved["warnings"] = [];
  /** Raw values of the macros defined so far, by lower-case name (and command name). */
  const macros = new Map<string, string>();
  const expand = (text: string) =>
    expandMacros(text, { lookup: (n) => macros.get(n), environ: env.environ });
  const stack: Frame[] = [];
  const active = () => stack.length === 0 || stack[stack.length - 1]!.taking;

  const condition = (text: string): Verdict => {
    const expanded = expand(text);
    if (!expanded.ok) return expanded;
    let t = expanded.text.trim();
    // A condition that expands to nothing is false, so `if $(UNSET)` is simply not taken.
    if (t === "" && text.includes("$")) return { ok: true, value: false };
    const negated = t.startsWith("!");
    if (negated) t = t.slice(1).trim();
    const v = evaluateCondition(t, (name) => (macros.get(name.toLowerCase()) ?? "") !== "");
    return v.ok && negated ? { ok: true, value: !v.value } : v;
  };

  const walk = (statements: readonly Statement[], depth: number): void => {
    for (const s of statements) {
      if (s.kind !== "directive") {
        if (!active()) continue;
        if (s.kind === "assign") {
          const own = selfReferenced(s, macros.get(canonicalCommand(s.key)));
          macros.set(s.key.toLowerCase(), own.value);
          macros.set(canonicalCommand(s.key), own.value);
          out.push(own);
          continue;
        }
        out.push(s);
        continue;
      }
      const fail = (message: string) => errors.push({ file: s.file, line: s.line, message });
      const top = stack[stack.length - 1];
      switch (s.word) {
        case "if": {
          if (stack.length >= MAX_IF_DEPTH) {
            fail("if nesting too deep");
            return;
          }
          const outer = active();
          const v = outer ? condition(s.text) : { ok: true as const, value: false };
          if (!v.ok) fail(`if ${s.text}: ${v.message}`);
          const value = v.ok && v.value;
          stack.push({
            file: s.file,
            line: s.line,
            outer,
            taking: outer && value,
            taken: value,
            sawElse: false,
          });
          break;
        }
        case "elif":
        case "else": {
          if (top === undefined || top.file !== s.file) {
            fail(`'${s.word}' without a matching 'if'`);
            break;
          }
          if (top.sawElse) {
            fail(`'${s.word}' after 'else'`);
            break;
          }
          if (s.word === "else") {
            top.sawElse = true;
            top.taking = top.outer && !top.taken;
            top.taken = true;
            break;
          }
          if (!top.outer || top.taken) {
            top.taking = false;
            break;
          }
          const v = condition(s.text);
          if (!v.ok) fail(`elif ${s.text}: ${v.message}`);
          top.taking = v.ok && v.value;
          top.taken = top.taking;
          break;
        }
        case "endif":
          if (top === undefined || top.file !== s.file) fail("'endif' without a matching 'if'");
          else stack.pop();
          break;
        case "error":
        case "warning": {
          if (!active()) break;
          const text = expand(s.text);
          const message = text.ok ? text.text : s.text;
          if (s.word === "error") fail(message);
          else warnings.push({ file: s.file, line: s.line, message });
          break;
        }
        case "include": {
          if (!active()) break;
          const options = s.options
            .toLowerCase()
            .split(/\s+/)
            .filter((o) => o !== "");
          if (options.some((o) => o !== "ifexist")) {
            fail(
              `include ${s.options} is not supported: Updraft runs no command at submit; run it first and 'include : FILE' its output`,
            );
            break;
          }
          const name = expand(s.text);
          if (!name.ok) {
            fail(name.message);
            break;
          }
          if (name.text.trim() === "") {
            fail("include names no file");
            break;
          }
          if (depth >= MAX_INCLUDE_DEPTH) {
            fail(`includes nest more than ${MAX_INCLUDE_DEPTH} deep (a file includes itself?)`);
            break;
          }
          const path = posix.resolve(env.cwd, name.text.trim());
          const text = env.readFile?.(path);
          if (text === undefined) {
            if (!options.includes("ifexist")) fail(`cannot read included file ${path}`);
            break;
          }
          const before = stack.length;
          walk(parseStatements(sourceLines(text, name.text.trim())), depth + 1);
          // An if left open at the end of an included file is that file's error.
          while (stack.length > before) {
            const open = stack.pop()!;
            errors.push({
              file: open.file,
              line: open.line,
              message: "'if' is never closed by 'endif'",
            });
          }
          break;
        }
      }
    }
  };
  walk(first, 0);
  for (const open of stack) {
    errors.push({ file: open.file, line: open.line, message: "'if' is never closed by 'endif'" });
  }
  return { statements: out, errors, warnings };
}
