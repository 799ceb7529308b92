/**
 * `updraft classad eval` and `updraft classad match`: evaluate expressions and match ads from the
 * command line, in HTCondor's default (old-semantics) behaviour.
 */
import { hasErrorCode } from "../common/errors.js";
import { Command } from "commander";
import {
  AbsTime,
  ClassAd,
  ListValue,
  Real,
  RelTime,
  UNDEFINED,
  type Value,
  compileExpression,
  isAd,
  rank,
  requirementsHold,
  typeOf,
  unparseValue,
} from "../classad/index.js";
import { CliError } from "./errors.js";
import { MAX_INPUT_FILE_BYTES, readBoundedText } from "../common/bounded-read.js";

function readSource(file: string, exitCode = 1): string {
  try {
    return readBoundedText(file, MAX_INPUT_FILE_BYTES);
  } catch (err) {
    throw new CliError(`cannot read ${file}: ${(err as Error).message}`, exitCode);
  }
}

/** Read and parse an ad file; a parse error exits with `exitCode` after a located message. */
function readAd(file: string, exitCode = 1): ClassAd {
  const parsed = ClassAd.tryParse(readSource(file, exitCode));
  if (!parsed.ok) throw new CliError(`${file}: ${parsed.error.message}`, exitCode);
  return parsed.value;
}

/** `match` exits 1 for "no match", so unreadable input gets its own status. */
const MATCH_INPUT_ERROR = 2;

/** A value as one JSON object (`{"type":"integer","value":3}`...); bigints stay exact. */
export function valueToJson(v: Value): string {
  switch (typeof v) {
    case "symbol":
      return v === UNDEFINED ? '{"type":"undefined"}' : '{"type":"error"}';
    case "boolean":
      return `{"type":"boolean","value":${v}}`;
    case "number":
    case "bigint":
      return `{"type":"integer","value":${String(v)}}`;
    case "string":
      return `{"type":"string","value":${JSON.stringify(v)}}`;
    default:
      if (v instanceof Real) {
        const x = v.v;
        const text = Number.isNaN(x)
          ? '"NaN"'
          : x === Infinity
            ? '"INF"'
            : x === -Infinity
              ? '"-INF"'
              : JSON.stringify(x);
        return `{"type":"real","value":${text}}`;
      }
      if (v instanceof ListValue) {
        return `{"type":"list","value":[${v.items.map(valueToJson).join(",")}],"text":${JSON.stringify(unparseValue(v))}}`;
      }
      if (isAd(v)) return `{"type":"classad","value":${JSON.stringify(unparseValue(v))}}`;
      if (v instanceof AbsTime || v instanceof RelTime) {
        return `{"type":"${typeOf(v)}","value":${JSON.stringify(unparseValue(v))}}`;
      }
      return '{"type":"error"}';
  }
}

function parseErrorJson(message: string): string {
  return `{"type":"parse-error","message":${JSON.stringify(message)}}`;
}

/** One line of `eval --jsonl` input to its line of output. */
export function evaluateJsonLine(line: string, lineNumber: number): string {
  let request: unknown;
  try {
    request = JSON.parse(line);
  } catch (err) {
    return parseErrorJson(`line ${lineNumber}: ${(err as Error).message}`);
  }
  if (typeof request !== "object" || request === null) {
    return parseErrorJson(`line ${lineNumber}: expected a JSON object`);
  }
  const { expr, my, target } = request as { expr?: unknown; my?: unknown; target?: unknown };
  if (typeof expr !== "string")
    return parseErrorJson(`line ${lineNumber}: "expr" must be a string`);
  for (const [field, text] of [
    ["my", my],
    ["target", target],
  ] as const) {
    if (text !== undefined && typeof text !== "string") {
      return parseErrorJson(`line ${lineNumber}: "${field}" must be a string`);
    }
  }
  try {
    const compiled = compileExpression(expr);
    const myAd = typeof my === "string" ? ClassAd.parse(my) : new ClassAd();
    const targetAd = typeof target === "string" ? ClassAd.parse(target) : null;
    return valueToJson(myAd.evaluateExpr(compiled, targetAd));
  } catch (err) {
    if (hasErrorCode(err, "classad-syntax")) return parseErrorJson(err.message);
    throw err;
  }
}

/** Stream stdin line by line, writing each batch of results with one write. */
async function evaluateJsonLines(): Promise<void> {
  let pending = "";
  let lineNumber = 0;
  const handle = (text: string): string => {
    let out = "";
    for (const line of text.split("\n")) {
      lineNumber++;
      if (line.trim() === "") continue;
      out += `${evaluateJsonLine(line, lineNumber)}\n`;
    }
    return out;
  };
  for await (const chunk of process.stdin) {
    pending += String(chunk);
    const lastNewline = pending.lastIndexOf("\n");
    if (lastNewline < 0) continue;
    const out = handle(pending.slice(0, lastNewline));
    pending = pending.slice(lastNewline + 1);
    if (out !== "" && !process.stdout.write(out)) {
      await new Promise((resolve) => process.stdout.once("drain", resolve));
    }
  }
  if (pending !== "") process.stdout.write(handle(pending));
}

interface EvalOptions {
  my?: string;
  target?: string;
  jsonl?: boolean;
}

function evalCommand(expr: string | undefined, options: EvalOptions): Promise<void> | void {
  if (options.jsonl) {
    if (expr !== undefined)
      throw new CliError("--jsonl reads expressions from stdin; give no EXPR");
    return evaluateJsonLines();
  }
  if (expr === undefined) throw new CliError("missing EXPR (or use --jsonl)");
  let compiled;
  try {
    compiled = compileExpression(expr);
  } catch (err) {
    if (hasErrorCode(err, "classad-syntax")) throw new CliError(err.message);
    throw err;
  }
  const my = options.my !== undefined ? readAd(options.my) : new ClassAd();
  const target = options.target !== undefined ? readAd(options.target) : null;
  process.stdout.write(`${unparseValue(my.evaluateExpr(compiled, target))}\n`);
}

function matchCommand(jobFile: string, slotFile: string, options: { json?: boolean }): void {
  const job = readAd(jobFile, MATCH_INPUT_ERROR);
  const slot = readAd(slotFile, MATCH_INPUT_ERROR);
  const jobMatchesSlot = requirementsHold(job, slot);
  const slotMatchesJob = requirementsHold(slot, job);
  const match = jobMatchesSlot && slotMatchesJob;
  const jobRank = rank(job, slot);
  if (options.json) {
    process.stdout.write(
      `${JSON.stringify({ jobMatchesSlot, slotMatchesJob, match, rank: jobRank })}\n`,
    );
  } else {
    process.stdout.write(
      `job requirements accept the slot: ${jobMatchesSlot}\n` +
        `slot requirements accept the job: ${slotMatchesJob}\n` +
        `symmetric match: ${match}\n` +
        `job rank of the slot: ${jobRank}\n`,
    );
  }
  process.exitCode = match ? 0 : 1;
}

export function createClassadCommand(): Command {
  const classad = new Command("classad").description(
    "evaluate ClassAd expressions and match ads (HTCondor default semantics)",
  );
  classad
    .command("eval")
    .description("evaluate an expression and print its value in ClassAd syntax")
    .argument("[expr]", "the expression")
    .option("--my <file>", "the ad the expression belongs to (MY), either syntax; - for stdin")
    .option("--target <file>", "the other ad (TARGET), either syntax; - for stdin")
    .option(
      "--jsonl",
      'read {"expr", "my", "target"} objects from stdin, one per line; print one JSON value per line',
    )
    .allowUnknownOption()
    .action(evalCommand);
  classad
    .command("match")
    .description(
      "match a job ad against a slot ad: exit 0 on a symmetric match, 1 otherwise, 2 on bad input",
    )
    .argument("<job>", "job ad file, either syntax; - for stdin")
    .argument("<slot>", "slot ad file, either syntax; - for stdin")
    .option("--json", "print the result as one JSON object")
    .action(matchCommand);
  return classad;
}
