/** `updraft schedd --config FILE`: load config, start the schedd and its advertiser, stop on signals. */
import { readFileSync } from "node:fs";
import { loadConfigFile } from "../common/config.js";
import { createLogger } from "../common/logger.js";
import { createRpcClient, messageCodec, type WireClassAd } from "../wire/index.js";
import { buildSchedulerAd, startAdvertiser } from "./advertiser.js";
import { scheddConfigSchema } from "./config.js";
import { startSchedd } from "./schedd.js";

export async function runSchedd(configFile: string): Promise<void> {
  const cfg = loadConfigFile(scheddConfigSchema, configFile);
  const log = createLogger({ name: "schedd", level: cfg.log_level });
  const schedd = await startSchedd({ config: cfg, logger: log });
  const address = cfg.public_url ?? schedd.url();
  let advertiser: { stop(): void } | undefined;
  if (cfg.collector) {
    // collector.Advertise lives on the collector's branch; until it exists a call fails with
    // unknown-method or unavailable, which the advertiser logs and retries.
    const client = createRpcClient({
      url: cfg.collector.url,
      certPem: readFileSync(cfg.cert_file, "latin1"),
      keyPem: readFileSync(cfg.key_file, "latin1"),
      caDir: cfg.trust_dir,
    });
    const advertise = client.unaryMethod("collector.Advertise", {
      request: messageCodec<WireClassAd>("ClassAd"),
      response: messageCodec("Empty"),
    });
    advertiser = startAdvertiser(
      () =>
        buildSchedulerAd({
          name: cfg.name,
          address,
          owners: schedd.queue.index.owners,
          nowS: Math.floor(Date.now() / 1000),
        }),
      async (attrs) => {
        await advertise({ attrs }, { deadlineMs: 10_000 });
      },
      cfg.collector.interval_seconds * 1000,
      log.child({ component: "advertiser" }),
    );
  }
  const stop = async (signal: string): Promise<void> => {
    log.info({ signal }, "shutting down");
    advertiser?.stop();
    await schedd.close();
    process.exit(0);
  };
  process.once("SIGTERM", () => void stop("SIGTERM"));
  process.once("SIGINT", () => void stop("SIGINT"));
}
