/** `updraft schedd run --config FILE`: load config, start the schedd and its advertiser, stop on signals. */
import { loadTlsMaterial, rpcClientFromTls } from "../common/tls-rpc.js";
import { createLogger } from "../common/logger.js";
import { stopOnSignals } from "../common/shutdown.js";
import { createCollectorClient } from "../collector/client.js";
import { buildSchedulerAd, startAdvertiser } from "./advertiser.js";
import { loadScheddConfig } from "./config.js";
import { startSchedd } from "./schedd.js";

export async function runSchedd(configFile: string): Promise<void> {
  const cfg = loadScheddConfig(configFile);
  const log = createLogger({ name: "schedd", level: cfg.log_level });
  const schedd = await startSchedd({ config: cfg, logger: log });
  const address = cfg.public_url ?? schedd.url();
  let advertiser: { stop(): void } | undefined;
  if (cfg.collector) {
    const collector = createCollectorClient(
      rpcClientFromTls(loadTlsMaterial(cfg.tls), { url: cfg.collector.url }),
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
      cfg.collector.interval_s * 1000,
      log.child({ component: "advertiser" }),
    );
  }
  stopOnSignals(log, async () => {
    advertiser?.stop();
    await schedd.close();
  });
}
