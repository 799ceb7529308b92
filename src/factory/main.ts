/** `updraft factory --config FILE`: load the config, start the daemon, stop on SIGTERM/SIGINT. */
import { createLogger } from "../common/logger.js";
import { loadFactoryConfig } from "./config.js";
import { createFactoryDaemon } from "./daemon.js";

export async function runFactory(configFile: string): Promise<void> {
  const config = loadFactoryConfig(configFile);
  const logger = createLogger({ name: "factory", level: config.log_level });
  const daemon = createFactoryDaemon(config, { logger });
  await daemon.start();
  let stopping = false;
  const shutdown = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "shutting down; pilots keep running");
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
