/**
 * `updraft collector run --config FILE`: load and check the configuration, start the daemon, and stop
 * it cleanly (snapshot, close connections) on SIGTERM or SIGINT.
 */
import { createLogger } from "../common/logger.js";
import { stopOnSignals } from "../common/shutdown.js";
import { loadCollectorConfig } from "./config.js";
import { createCollectorDaemon } from "./daemon.js";

export async function runCollector(configFile: string): Promise<void> {
  const config = loadCollectorConfig(configFile);
  const logger = createLogger({ name: "collector", level: config.log_level });
  const daemon = createCollectorDaemon(config, { logger });
  await daemon.start();
  stopOnSignals(logger, () => daemon.stop());
}
