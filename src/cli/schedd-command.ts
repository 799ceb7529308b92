/** `updraft schedd --config FILE`: run the schedd daemon. */
import { Command } from "commander";
import { ConfigError } from "../common/config.js";
import { runSchedd } from "../schedd/main.js";
import { CliError } from "./errors.js";

export function createScheddCommand(): Command {
  return new Command("schedd")
    .description("run the schedd: the users' job queue and job leases to pilots")
    .requiredOption("--config <file>", "YAML configuration (see config/schedd.yaml)")
    .action(async (o: { config: string }) => {
      try {
        await runSchedd(o.config);
      } catch (err) {
        if (err instanceof ConfigError) throw new CliError(err.message, 78);
        throw err;
      }
    });
}
