/**
 * `updraft frontend run --config FILE`: load the configuration, connect to the collector and
 * schedds, run cycles until SIGTERM or SIGINT (the running cycle ends first). Nothing is withdrawn
 * on stop; daemon.ts says why.
 */
import { logConfigDeprecations } from "../common/config-renames.js";
import { createLogger } from "../common/logger.js";
import { stopOnSignals } from "../common/shutdown.js";
import { loadFrontendConfig } from "./config.js";
import { connectPeers, createFrontendDaemon } from "./daemon.js";

export async function runFrontend(configFile: string): Promise<void> {
  const config = loadFrontendConfig(configFile);
  const log = createLogger({ name: "frontend", level: config.log_level });
  logConfigDeprecations(log, config);
  const peers = connectPeers(config);
  const daemon = createFrontendDaemon(config, { peers, log });
  await daemon.serveMetrics();
  daemon.start();
  stopOnSignals(
    log,
    async () => {
      await daemon.stop();
      await peers.close();
    },
    "stopping",
  );
}
