/**
 * A submit description split into statements: `key = value` assignments and `queue` lines, with
 * comments dropped, `\` continuations joined and every statement keeping its first line number.
 */

export interface SourceLine {
  readonly file: string;
  readonly line: number;
  readonly text: string;
}

export interface Assignment {
  readonly kind: "assign";
  readonly file: string;
  readonly line: number;
  /** The key as written (`+DESIRED_Sites`, `Request_Memory`...). */
  readonly key: string;
  readonly value: string;
  /** 1-based column of the value on its first line, for pointing at expression errors. */
  readonly valueColumn: number;
}

export interface QueueStatement {
  readonly kind: "queue";
  readonly file: string;
  readonly line: number;
  /** Everything after the word `queue`, before macro expansion. */
  readonly args: string;
  /** Lines of an inline `in (...)` or `from (...)` block that follow the queue line. */
  readonly block: readonly string[] | null;
}

export interface BadStatement {
  readonly kind: "bad";
  readonly file: string;
  readonly line: number;
  readonly message: string;
}

/**
 * `if`/`elif`/`else`/`endif`, `include : FILE`, `error : text` and `warning : text`: resolved
 * by `applyDirectives` (directives.ts) into the statements they select.
 */
export interface Directive {
  readonly kind: "directive";
  readonly file: string;
  readonly line: number;
  readonly word: "if" | "elif" | "else" | "endif" | "include" | "error" | "warning";
  /** The condition, the file name or the message; for include, the options before the ':'. */
  readonly text: string;
  readonly options: string;
}

export type Statement = Assignment | QueueStatement | BadStatement | Directive;

const CONDITIONAL = /^(if|elif)\s+(\S.*)$|^(else|endif)$/i;
const COLON_FORM = /^(include|error|warning)\b\s*([^:]*):\s*(.*)$/i;

/** A directive line (already known not to be an assignment), or undefined. */
function directiveOf(trimmed: string, file: string, line: number): Directive | undefined {
  const c = CONDITIONAL.exec(trimmed);
  if (c) {
    const word = (c[1] ?? c[3]).toLowerCase() as Directive["word"];
    return { kind: "directive", file, line, word, text: (c[2] ?? "").trim(), options: "" };
  }
  const k = COLON_FORM.exec(trimmed);
  if (!k) return undefined;
  const word = k[1].toLowerCase() as Directive["word"];
  return { kind: "directive", file, line, word, text: k[3].trim(), options: k[2].trim() };
}

/** Physical lines of `text` numbered from 1. */
export function sourceLines(text: string, file: string): SourceLine[] {
  const lines = text.split(/\r?\n/);
  if (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
  return lines.map((t, i) => ({ file, line: i + 1, text: t }));
}

const QUEUE = /^queue(?:\s+(.*))?$/i;
const ASSIGN = /^([+A-Za-z_][A-Za-z0-9_.+-]*)\s*=\s?/;

/** Whether a queue line opens a block whose items continue on the next lines. */
function opensBlock(args: string): boolean {
  const m = /\b(?:in|from)\b[^(]*\(([^)]*)$/i.exec(args);
  return m !== null;
}

export function parseStatements(lines: readonly SourceLine[]): Statement[] {
  const out: Statement[] = [];
  let i = 0;
  while (i < lines.length) {
    const first = lines[i];
    let text = first.text;
    i++;
    // A comment is a whole line starting with '#'; HTCondor has no trailing comments.
    if (/^\s*#/.test(text) || text.trim() === "") continue;
    while (/\\\s*$/.test(text) && i < lines.length) {
      text = text.replace(/\\\s*$/, "") + lines[i].text.trim();
      i++;
    }
    text = text.replace(/\\\s*$/, "");
    const trimmed = text.trim();
    const queue = QUEUE.exec(trimmed);
    if (queue) {
      const args = (queue[1] ?? "").trim();
      let block: string[] | null = null;
      if (opensBlock(args)) {
        block = [];
        let closed = false;
        while (i < lines.length) {
          const t = lines[i].text;
          i++;
          if (/^\s*\)\s*$/.test(t)) {
            closed = true;
            break;
          }
          block.push(t);
        }
        if (!closed) {
          out.push({
            kind: "bad",
            file: first.file,
            line: first.line,
            message: "queue block opened with '(' is never closed by a line holding ')'",
          });
          continue;
        }
      }
      out.push({ kind: "queue", file: first.file, line: first.line, args, block });
      continue;
    }
    const leading = text.length - text.trimStart().length;
    const assign = ASSIGN.exec(text.trimStart());
    if (assign) {
      out.push({
        kind: "assign",
        file: first.file,
        line: first.line,
        key: assign[1],
        value: text.trimStart().slice(assign[0].length).trim(),
        valueColumn: leading + assign[0].length + 1,
      });
      continue;
    }
    const directive = directiveOf(trimmed, first.file, first.line);
    if (directive) {
      out.push(directive);
      continue;
    }
    out.push({
      kind: "bad",
      file: first.file,
      line: first.line,
      message: `cannot parse '${trimmed.length > 60 ? `${trimmed.slice(0, 60)}...` : trimmed}': expected 'name = value' or 'queue'`,
    });
  }
  return out;
}
