/**
 * `updraft collector --config FILE`: load and check the configuration, start the daemon, and stop
 * it cleanly (snapshot, close connections) on SIGTERM or SIGINT.
 */
import { createLogger } from "../common/logger.js";
import { loadCollectorConfig } from "./config.js";
import { createCollectorDaemon } from "./daemon.js";

export async function runCollector(configFile: string): Promise<void> {
  const config = loadCollectorConfig(configFile);
  const logger = createLogger({ name: "collector", level: config.log_level });
  const daemon = createCollectorDaemon(config, { logger });
  await daemon.start();
  let stopping = false;
  const shutdown = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "shutting down");
    daemon.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.once("SIGTERM", shutdown);
  process.once("SIGINT", shutdown);
}
