/**
 * `updraft frontend run --config FILE`: load the configuration, start the daemon (it connects to
 * the collector and schedds), run cycles until SIGTERM or SIGINT (the running cycle ends first).
 * Nothing is withdrawn on stop; daemon.ts says why.
 */
import { createLogger } from "../common/logger.js";
import { stopOnSignals } from "../common/shutdown.js";
import { loadFrontendConfig } from "./config.js";
import { createFrontendDaemon } from "./daemon.js";

export async function runFrontend(configFile: string): Promise<void> {
  const config = loadFrontendConfig(configFile);
  const logger = createLogger({ name: "frontend", level: config.log_level });
  const daemon = createFrontendDaemon(config, { logger });
  await daemon.start();
  stopOnSignals(logger, () => daemon.stop(), "stopping");
}
