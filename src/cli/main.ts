/**
 * The `updraft` command. Each part of the system adds its own subcommands; only the module of
 * the subcommand being run is loaded (a pilot or `updraft q` starts in a fraction of the time
 * loading every daemon would take), and all of them for help.
 */
import { Command } from "commander";
import { registerFailureHandling } from "./errors.js";

type Loader = () => Promise<Command[]>;

const COMMANDS: [names: string[], load: Loader][] = [
  [["classad"], async () => [(await import("./classad-command.js")).createClassadCommand()]],
  [["ca"], async () => [(await import("./ca-command.js")).createCaCommand()]],
  [["proxy"], async () => [(await import("./proxy-command.js")).createProxyCommand()]],
  [["token"], async () => [(await import("./token-command.js")).createTokenCommand()]],
  [["collector"], async () => [(await import("./collector-command.js")).createCollectorCommand()]],
  [["status"], async () => [(await import("./status-command.js")).createStatusCommand()]],
  [["advertise"], async () => [(await import("./advertise-command.js")).createAdvertiseCommand()]],
  [["schedd"], async () => [(await import("./schedd-command.js")).createScheddCommand()]],
  [["submit"], async () => [(await import("./submit-command.js")).createSubmitCommand()]],
  [
    ["q", "history", "rm", "hold", "release", "qedit"],
    async () => {
      const m = await import("./queue-commands.js");
      return [
        m.createQCommand(),
        m.createHistoryCommand(),
        ...m.createActCommands(),
        m.createQeditCommand(),
      ];
    },
  ],
  [["wait"], async () => [(await import("./wait-command.js")).createWaitCommand()]],
  [
    ["refresh-proxy"],
    async () => [(await import("./refresh-proxy-command.js")).createRefreshProxyCommand()],
  ],
  [
    ["transfer-output"],
    async () => [(await import("./transfer-output-command.js")).createTransferOutputCommand()],
  ],
  [["factory"], async () => [(await import("./factory-command.js")).createFactoryCommand()]],
  [["frontend"], async () => [(await import("./frontend-command.js")).createFrontendCommand()]],
  [["pilot"], async () => [(await import("./pilot-command.js")).createPilotCommand()]],
  [
    ["up", "demo"],
    async () => {
      const m = await import("./pool-command.js");
      return [m.createUpCommand(), m.createDemoCommand()];
    },
  ],
];

/** The program with the subcommands `name` needs (every one when `name` is not a command). */
export async function createProgram(name?: string): Promise<Command> {
  const program = new Command("updraft")
    .description(
      "Updraft: pilot-based workload management (collector, schedd, factory, frontend, pilot)",
    )
    .version("0.1.0")
    .showHelpAfterError("(run with --help for usage)");
  const one = COMMANDS.find(([names]) => name !== undefined && names.includes(name));
  for (const [, load] of one ? [one] : COMMANDS) {
    for (const c of await load()) program.addCommand(c);
  }
  return program;
}

const program = await createProgram(process.argv[2]);
registerFailureHandling(program);
await program.parseAsync(process.argv);
