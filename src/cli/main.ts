import { Command } from "commander";
import { registerClassadCommand } from "./classad-command.js";
import { registerFailureHandling } from "./errors.js";

/** The `updraft` command: each part of the system adds its own subcommands. */
export function createProgram(): Command {
  const program = new Command("updraft")
    .description(
      "Updraft: pilot-based workload management (collector, schedd, factory, frontend, pilot)",
    )
    .version("0.1.0")
    .showHelpAfterError("(run with --help for usage)");
  registerClassadCommand(program);
  return program;
}

const program = createProgram();
registerFailureHandling(program);
await program.parseAsync(process.argv);
