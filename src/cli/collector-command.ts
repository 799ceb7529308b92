/** `updraft collector --config FILE`: run the collector daemon in the foreground. */
import { Command } from "commander";
import { ConfigError } from "../common/config.js";
import { runCollector } from "../collector/main.js";
import { CliError } from "./errors.js";

export function createCollectorCommand(): Command {
  return new Command("collector")
    .description(
      "run the collector: the pool's directory of ads (GlideFactory, GlideClient, Slot...)",
    )
    .requiredOption("--config <file>", "collector configuration (YAML); see config/collector.yaml")
    .action(async (o: { config: string }) => {
      try {
        await runCollector(o.config);
      } catch (err) {
        if (err instanceof ConfigError) throw new CliError(err.message, 78);
        if (
          err instanceof Error &&
          "code" in err &&
          typeof err.code === "string" &&
          /^E[A-Z]+$/.test(err.code)
        ) {
          throw new CliError(`collector: ${err.message}`, 71);
        }
        throw err;
      }
    });
}
