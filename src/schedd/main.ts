/** `updraft schedd run --config FILE`: load the configuration, start the daemon, stop on signals. */
import { createLogger } from "../common/logger.js";
import { stopOnSignals } from "../common/shutdown.js";
import { loadScheddConfig } from "./config.js";
import { createScheddDaemon } from "./daemon.js";

export async function runSchedd(configFile: string): Promise<void> {
  const config = loadScheddConfig(configFile);
  const logger = createLogger({ name: "schedd", level: config.log_level, batched: true });
  const daemon = createScheddDaemon(config, { logger });
  await daemon.start();
  stopOnSignals(logger, () => daemon.stop());
}
