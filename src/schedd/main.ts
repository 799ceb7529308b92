/** `updraft schedd run --config FILE`: load config, start the schedd and its advertiser, stop on signals. */
import { readFileSync } from "node:fs";
import { logConfigDeprecations } from "../common/config-renames.js";
import { createLogger } from "../common/logger.js";
import { stopOnSignals } from "../common/shutdown.js";
import { createCollectorClient } from "../collector/client.js";
import { createRpcClient } from "../wire/index.js";
import { buildSchedulerAd, startAdvertiser } from "./advertiser.js";
import { loadScheddConfig } from "./config.js";
import { startSchedd } from "./schedd.js";

export async function runSchedd(configFile: string): Promise<void> {
  const cfg = loadScheddConfig(configFile);
  const log = createLogger({ name: "schedd", level: cfg.log_level });
  logConfigDeprecations(log, cfg);
  const schedd = await startSchedd({ config: cfg, logger: log });
  const address = cfg.public_url ?? schedd.url();
  let advertiser: { stop(): void } | undefined;
  if (cfg.collector) {
    const collector = createCollectorClient(
      createRpcClient({
        url: cfg.collector.url,
        certPem: readFileSync(cfg.cert_file, "latin1"),
        keyPem: readFileSync(cfg.key_file, "latin1"),
        caDir: cfg.trust_dir,
      }),
    );
    advertiser = startAdvertiser(
      () =>
        buildSchedulerAd({
          name: cfg.name,
          address,
          owners: schedd.queue.index.owners,
          nowS: Math.floor(Date.now() / 1000),
        }),
      async (attrs) => {
        const [outcome] = await collector.advertise([attrs], "Scheduler", { deadlineMs: 10_000 });
        // A refusal (say, this host lacks the collector's daemon role) is worth a warning too.
        if (outcome && !outcome.ok) throw new Error(`${outcome.code}: ${outcome.message}`);
      },
      cfg.collector.interval_seconds * 1000,
      log.child({ component: "advertiser" }),
    );
  }
  stopOnSignals(log, async () => {
    advertiser?.stop();
    await schedd.close();
  });
}
