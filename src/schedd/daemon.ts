/**
 * The schedd daemon as every daemon is shaped: `createScheddDaemon(config, options)` gives
 * `start` and `stop`. Start opens the queue and listens (startSchedd), then, when the
 * configuration has a `collector` block, advertises the Scheduler ad there every `interval_s` so
 * that users' commands and frontends find this schedd. Stop ends the advertising and closes the
 * schedd; the ad expires at the collector on its own.
 */
import type { Logger } from "pino";
import { AD_TYPE } from "../ads/index.js";
import { connectCollectorSet } from "../collector/collector-set.js";
import type { Clock } from "../common/clock.js";
import { collectorUrls } from "../common/config-blocks.js";
import { clientCredentialsFromTls, loadTlsMaterial, rpcClientFromTls } from "../common/tls-rpc.js";
import { silentLogger } from "../wire/silent-logger.js";
import { buildSchedulerAd, startAdvertiser } from "./advertiser.js";
import type { ScheddConfig } from "./config.js";
import { type Schedd, startSchedd } from "./schedd.js";

export interface ScheddDaemonOptions {
  logger?: Logger;
  clock?: Clock;
  /** Run the lease, policy, spool and checkpoint timers (default true). */
  timers?: boolean;
}

export interface ScheddDaemon {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** The running schedd; throws before start(). */
  schedd(): Schedd;
}

export function createScheddDaemon(
  config: ScheddConfig,
  options: ScheddDaemonOptions = {},
): ScheddDaemon {
  let schedd: Schedd | undefined;
  let advertiser: { stop(): void } | undefined;
  let collectors: { close(): Promise<void> } | undefined;

  function advertise(running: Schedd, collector: NonNullable<ScheddConfig["collector"]>): void {
    const log = (options.logger ?? silentLogger()).child({ component: "advertiser" });
    // Every collector of the pool holds the Scheduler ad, so users and frontends find the
    // schedd through whichever answers them.
    const credentials = clientCredentialsFromTls(loadTlsMaterial(config.tls));
    const set = connectCollectorSet(collectorUrls(collector), (url) =>
      rpcClientFromTls(credentials, { url }),
    );
    collectors = set;
    const client = set.collector;
    const address = config.public_url ?? running.url();
    advertiser = startAdvertiser(
      () =>
        buildSchedulerAd({
          name: config.name,
          address,
          owners: running.queue.index.owners,
          cpuByEntry: running.queue.events.cpuByEntry.entries,
          nowS: Math.floor(Date.now() / 1000),
        }),
      async (attrs) => {
        const [outcome] = await client.advertise([attrs], AD_TYPE.Scheduler, {
          deadlineMs: 10_000,
        });
        // A refusal (say, this host lacks the collector's daemon role) is worth a warning too.
        if (outcome && !outcome.ok) throw new Error(`${outcome.code}: ${outcome.message}`);
        // Taken with a code: some collectors of the pool refused it (the message says which).
        if (outcome?.code) log.warn({ code: outcome.code, message: outcome.message }, "ad refused");
      },
      collector.interval_s * 1000,
      log,
    );
  }

  return {
    async start() {
      schedd = await startSchedd({ config, ...options });
      if (config.collector) advertise(schedd, config.collector);
    },
    async stop() {
      advertiser?.stop();
      await collectors?.close();
      await schedd?.close();
    },
    schedd() {
      if (!schedd) throw new Error("the schedd is not started");
      return schedd;
    },
  };
}
