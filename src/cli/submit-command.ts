/**
 * `updraft submit FILE`, like condor_submit. `--dry-run` compiles the file and prints the job ads
 * it would queue (old long form, or JSON with `-json`) without any daemon; submitting to a schedd
 * goes through the same `compileSubmit` once the schedd client exists.
 */
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { userInfo } from "node:os";
import type { Command } from "commander";
import {
  type CompileResult,
  LOCAL_FILES,
  compileSubmit,
  formatErrors,
  jsonChunks,
  longFormChunks,
} from "../schedd/submit/index.js";
import { CliError } from "./errors.js";

export interface SubmitArgs {
  file: string;
  dryRun: boolean;
  json: boolean;
  append: string[];
  batchName?: string;
  pool?: string;
}

/** Options may be written HTCondor's way (`-json`, `-append X`) or GNU's (`--json`). */
export function parseSubmitArgs(argv: readonly string[]): SubmitArgs {
  const out: SubmitArgs = { file: "", dryRun: false, json: false, append: [] };
  const files: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const takeValue = (name: string): string => {
      const value = argv[++i];
      if (value === undefined) throw new CliError(`${name} needs a value`);
      return value;
    };
    const option = /^--?([a-z-]+)(?:=(.*))?$/.exec(arg);
    if (option === null || arg === "-") {
      files.push(arg);
      continue;
    }
    const [, name, inline] = option;
    const value = (): string => inline ?? takeValue(`-${name}`);
    switch (name) {
      case "dry-run":
        out.dryRun = true;
        break;
      case "json":
        out.json = true;
        break;
      case "append":
      case "a":
        out.append.push(value());
        break;
      case "batch-name":
        out.batchName = value();
        break;
      case "pool":
        out.pool = value();
        break;
      default:
        throw new CliError(`unknown option '${arg}' (run updraft submit --help)`);
    }
  }
  if (files.length !== 1) throw new CliError("give exactly one submit FILE");
  out.file = files[0];
  return out;
}

/** Compile a submit file from the local disk, as the user at this terminal. */
export function compileSubmitFile(args: SubmitArgs, clusterId: number): CompileResult {
  let text: string;
  try {
    text = readFileSync(args.file === "-" ? 0 : args.file, "utf8");
  } catch (err) {
    throw new CliError(`cannot read ${args.file}: ${(err as Error).message}`);
  }
  return compileSubmit(text, {
    file: args.file,
    cwd: process.cwd(),
    owner: userInfo().username,
    clusterId,
    now: Math.floor(Date.now() / 1000),
    appendLines: args.append,
    batchName: args.batchName,
    environ: process.env,
    ...LOCAL_FILES,
  });
}

async function submitCommand(argv: readonly string[]): Promise<void> {
  const args = parseSubmitArgs(argv);
  if (!args.dryRun) {
    const pool = args.pool ?? process.env.UPDRAFT_POOL;
    if (pool === undefined) {
      throw new CliError(
        "submitting to a schedd needs a pool: give --pool wss://HOST:PORT or set UPDRAFT_POOL " +
          "(or check the file with --dry-run)",
      );
    }
    throw new CliError(`submitting to the schedd of ${pool} is not available yet; use --dry-run`);
  }
  // condor_submit -dry-run numbers the cluster 1.
  const result = compileSubmitFile(args, 1);
  if (!result.ok) {
    process.stderr.write(formatErrors(result.errors));
    process.exitCode = 1;
    return;
  }
  const chunks = args.json ? jsonChunks(result.jobs) : longFormChunks(result.jobs);
  for (const chunk of chunks) {
    // Wait for the pipe to drain so a large cluster is not buffered whole in memory.
    if (!process.stdout.write(chunk)) await once(process.stdout, "drain");
  }
}

export function registerSubmitCommand(program: Command): void {
  program
    .command("submit")
    .description("submit jobs from a condor_submit description file")
    .usage("[--dry-run] FILE [-json] [-append CMD]... [-batch-name NAME] [--pool URL]")
    .argument("[args...]", "the submit FILE and options")
    .helpOption("-h, --help")
    .allowUnknownOption()
    .addHelpText(
      "after",
      `
Options (one dash or two):
  --dry-run          print the job ads the file would queue; needs no daemon
  -json              with --dry-run: print a JSON array of ads
  -append CMD        add a submit command before the first queue statement (repeatable)
  -batch-name NAME   set JobBatchName
  --pool URL         the pool whose schedd receives the jobs (or UPDRAFT_POOL)
`,
    )
    .action((_args: string[], _opts: unknown, cmd: Command) => submitCommand(cmd.args));
}
