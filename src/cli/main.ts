import { Command } from "commander";
import { registerClassadCommand } from "./classad-command.js";
import { createAdvertiseCommand } from "./advertise-command.js";
import { createCaCommand } from "./ca-command.js";
import { createCollectorCommand } from "./collector-command.js";
import { createFactoryCommand } from "./factory-command.js";
import { registerFailureHandling } from "./errors.js";
import { createProxyCommand } from "./proxy-command.js";
import { createStatusCommand } from "./status-command.js";

/** The `updraft` command: each part of the system adds its own subcommands. */
export function createProgram(): Command {
  const program = new Command("updraft")
    .description(
      "Updraft: pilot-based workload management (collector, schedd, factory, frontend, pilot)",
    )
    .version("0.1.0")
    .showHelpAfterError("(run with --help for usage)");
  registerClassadCommand(program);
  program.addCommand(createCaCommand());
  program.addCommand(createProxyCommand());
  program.addCommand(createCollectorCommand());
  program.addCommand(createStatusCommand());
  program.addCommand(createAdvertiseCommand());
  program.addCommand(createFactoryCommand());
  return program;
}

const program = createProgram();
registerFailureHandling(program);
await program.parseAsync(process.argv);
