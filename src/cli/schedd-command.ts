/** `updraft schedd run --config FILE` (or `updraft schedd --config FILE`): the schedd daemon. */
import type { Command } from "commander";
import { runSchedd } from "../schedd/main.js";
import { createDaemonCommand } from "./daemon-command.js";

export function createScheddCommand(): Command {
  return createDaemonCommand({
    name: "schedd",
    description: "run the schedd: the users' job queue and job leases to pilots",
    configHelp: "schedd configuration (YAML); see config/schedd.yaml",
    run: runSchedd,
  });
}
