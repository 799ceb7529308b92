import { createDemoCommand, createUpCommand } from "./pool-command.js";
import { Command } from "commander";
import { registerClassadCommand } from "./classad-command.js";
import { createAdvertiseCommand } from "./advertise-command.js";
import { createCaCommand } from "./ca-command.js";
import { createCollectorCommand } from "./collector-command.js";
import { registerFailureHandling } from "./errors.js";
import { createFactoryCommand } from "./factory-command.js";
import { createFrontendCommand } from "./frontend-command.js";
import { createPilotCommand } from "./pilot-command.js";
import { createProxyCommand } from "./proxy-command.js";
import { createStatusCommand } from "./status-command.js";
import { createScheddCommand } from "./schedd-command.js";
import { normalizeHtcondorArgs } from "./schedd-connection.js";
import {
  createActCommands,
  createHistoryCommand,
  createQCommand,
  createQeditCommand,
} from "./queue-commands.js";
import { createSubmitCommand } from "./submit-command.js";
import { createTransferOutputCommand } from "./transfer-output-command.js";
import { createWaitCommand } from "./wait-command.js";

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
  program.addCommand(createScheddCommand());
  for (const c of [
    createSubmitCommand(),
    createQCommand(),
    createHistoryCommand(),
    ...createActCommands(),
  ]) {
    program.addCommand(c);
  }
  program.addCommand(createQeditCommand());
  program.addCommand(createWaitCommand());
  program.addCommand(createTransferOutputCommand());
  program.addCommand(createFactoryCommand());
  program.addCommand(createFrontendCommand());
  program.addCommand(createPilotCommand());
  program.addCommand(createUpCommand());
  program.addCommand(createDemoCommand());
  return program;
}

const program = createProgram();
registerFailureHandling(program);
// HTCondor users type -af, -long, -constraint...: accepted as --af, --long, --constraint.
const HTCONDOR_LONG_OPTIONS = new Set(
  "af long json totals hold run nobatch allusers constraint limit name schedd reason dry-run append batch-name timeout dir poll".split(
    " ",
  ),
);
await program.parseAsync(normalizeHtcondorArgs(process.argv, HTCONDOR_LONG_OPTIONS));
