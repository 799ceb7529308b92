import { Command } from "commander";
import { createCaCommand } from "./ca-command.js";
import { registerClassadCommand } from "./classad-command.js";
import { registerFailureHandling } from "./errors.js";
import { createFrontendCommand } from "./frontend-command.js";
import { createPilotCommand } from "./pilot-command.js";
import { createProxyCommand } from "./proxy-command.js";
import { registerSubmitCommand } from "./submit-command.js";

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
  registerSubmitCommand(program);
  program.addCommand(createFrontendCommand());
  program.addCommand(createPilotCommand());
  return program;
}

const program = createProgram();
registerFailureHandling(program);
await program.parseAsync(process.argv);
