/** `updraft collector run --config FILE` (or `updraft collector --config FILE`): the collector daemon. */
import type { Command } from "commander";
import { runCollector } from "../collector/main.js";
import { createDaemonCommand } from "./daemon-command.js";

export function createCollectorCommand(): Command {
  return createDaemonCommand({
    name: "collector",
    description:
      "run the collector: the pool's directory of ads (GlideFactory, GlideClient, Slot...)",
    configHelp: "collector configuration (YAML); see config/collector.yaml",
    run: runCollector,
  });
}
