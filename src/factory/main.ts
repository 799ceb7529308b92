/** `updraft factory run --config FILE`: load the config, start the daemon, stop on SIGTERM/SIGINT. */
import { createLogger } from "../common/logger.js";
import { stopOnSignals } from "../common/shutdown.js";
import { loadFactoryConfig } from "./config.js";
import { createFactoryDaemon } from "./daemon.js";

export async function runFactory(configFile: string): Promise<void> {
  const config = loadFactoryConfig(configFile);
  const logger = createLogger({ name: "factory", level: config.log_level });
  const daemon = createFactoryDaemon(config, { logger, configFile });
  await daemon.start();
  stopOnSignals(logger, () => daemon.stop(), "shutting down; pilots keep running");
}
