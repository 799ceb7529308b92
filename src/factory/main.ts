/** `updraft factory run --config FILE`: load the config, start the daemon, stop on SIGTERM/SIGINT. */
import { readFileSync } from "node:fs";
import { createLogger, type Logger } from "../common/logger.js";
import { stopOnSignals } from "../common/shutdown.js";
import type { FactoryConfig } from "./config.js";
import { stageDirectory, startStagingServer } from "./staging/staging-area.js";
import { loadFactoryConfig } from "./config.js";
import { createFactoryDaemon } from "./daemon.js";

export async function runFactory(configFile: string): Promise<void> {
  const config = loadFactoryConfig(configFile);
  const logger = createLogger({ name: "factory", level: config.log_level });
  // The daemon first: a configuration problem it finds stops the start before anything listens.
  const daemon = createFactoryDaemon(config, {
    logger,
    configFile,
    pilotArgs: () => staging?.pilotArgs() ?? [],
  });
  // Read only once cycles run, after this assignment.
  const staging = await startStaging(config, logger);
  await daemon.start();
  stopOnSignals(
    logger,
    () => Promise.all([daemon.stop(), staging?.server.close()]),
    "shutting down; pilots keep running",
  );
}

/** Hash the staging directory, serve it, and put its URL and manifest hash on pilot command lines. */
async function startStaging(config: FactoryConfig, logger: Logger) {
  if (!config.staging) return undefined;
  const s = config.staging;
  const area = stageDirectory(s.dir, { entry: s.entry });
  const server = await startStagingServer({
    dir: s.dir,
    area,
    certPem: readFileSync(s.cert_file ?? config.credentials.cert_file, "latin1"),
    keyPem: readFileSync(s.key_file ?? config.credentials.key_file, "latin1"),
    host: s.listen.host,
    port: s.listen.port,
  });
  const url = s.url ?? server.url;
  logger.info(
    { url, files: area.files.length, manifestSha256: area.manifestSha256 },
    "staging area served",
  );
  return {
    server,
    pilotArgs: () => ["--staging", url, "--manifest-sha256", area.manifestSha256],
  };
}
