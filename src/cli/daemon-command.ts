/**
 * Every daemon starts the same way: `updraft <daemon> run --config FILE`. The older
 * `updraft <daemon> --config FILE` stays as an alias for the collector, schedd and factory.
 * Failures map to exit codes in one place (`toCliError`): 78 for a configuration problem, 71 for
 * a failed system call such as a port already in use.
 */
import { Command } from "commander";
import { CliError, withCliErrors } from "./errors.js";

export interface DaemonCommandSpec {
  name: string;
  description: string;
  configHelp: string;
  /** Start the daemon from its configuration file (its `main.ts`). */
  run: (configFile: string) => Promise<void>;
}

async function runFromOptions(spec: DaemonCommandSpec, cmd: Command): Promise<void> {
  const { config } = cmd.optsWithGlobals<{ config?: string }>();
  if (!config) throw new CliError(`give --config FILE: ${spec.configHelp}`);
  await withCliErrors(spec.name, () => spec.run(config));
}

/** `run --config FILE` under `parent`. */
export function addRunCommand(parent: Command, spec: DaemonCommandSpec): Command {
  parent
    .command("run")
    .description(`${spec.description} (in the foreground until SIGTERM or SIGINT)`)
    .option("--config <file>", spec.configHelp)
    .action((_o: unknown, cmd: Command) => runFromOptions(spec, cmd));
  return parent;
}

/**
 * `updraft <daemon>` with `run` and the alias `updraft <daemon> --config FILE`; the parent's
 * `--config` is also read by the subcommands added later (commander takes it before or after).
 */
export function createDaemonCommand(spec: DaemonCommandSpec): Command {
  const cmd = new Command(spec.name)
    .description(`${spec.description}; 'run --config FILE' starts it`)
    .option("--config <file>", spec.configHelp)
    .action((_o: unknown, c: Command) => runFromOptions(spec, c));
  return addRunCommand(cmd, spec);
}
