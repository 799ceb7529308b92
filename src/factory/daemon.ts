/**
 * The factory daemon: opens its database and adapters, serves its staging area and metrics,
 * re-attaches to pilots left by a previous run, then runs one cycle every `loop.cycle_s` (never
 * two at once) until stopped.
 */
import { AD_TYPE, GLIDE_FACTORY } from "../ads/index.js";
import { mkdirSync } from "node:fs";
import { ZodError } from "zod";
import { join } from "node:path";
import type { CollectorClient } from "../collector/client.js";
import { connectCollectorSet } from "../collector/collector-set.js";
import { ConfigError, type ConfigProblem, schemaProblems } from "../common/config.js";
import { logConfigDeprecations } from "../common/config-renames.js";
import { createCycleLoop } from "../common/cycle-loop.js";
import { createLogger, type Logger } from "../common/logger.js";
import { pubKeyId } from "../security/credential-crypto.js";
import {
  clientCredentialsFromTls,
  loadTlsMaterial,
  readTlsFile,
  rpcClientFromTls,
} from "../common/tls-rpc.js";
import { collectorUrls } from "../common/config-blocks.js";
import { type AdapterRegistry, defaultAdapterRegistry } from "./adapters/registry.js";
import type { GridAdapter } from "./adapters/types.js";
import { adapterStateDir, type FactoryConfig, pilotLogsDir } from "./config.js";
import { PilotCoreTime } from "./pilot-core-time.js";
import { RecentFailures } from "./recent-failures.js";
import { PilotLogStore } from "./pilot-logs.js";
import { type CycleReport, runCycle } from "./cycle.js";
import { type RequestWatch, watchRequests } from "./request-watch.js";
import { reconcile } from "./reconcile.js";
import { GlideClientReader } from "./client-requests.js";
import { CredentialCache } from "./credentials.js";
import type { EntryBackoff } from "./entry-backoff.js";
import type { ValidationBackoff } from "./validation-backoff.js";
import { FactoryStore } from "./store.js";
import { type StagingService, startStaging } from "./staging-service.js";
import { registerFactoryMetrics } from "./metrics.js";
import { createDaemonRegistry } from "../wire/metrics-route.js";
import { type MetricsListener, startMetricsListener } from "../wire/metrics-listener.js";
import type { Registry } from "prom-client";

export interface FactoryDaemonOptions {
  logger?: Logger;
  now?: () => number;
  registry?: AdapterRegistry;
  /** Named in configuration problems found here (adapter settings). */
  configFile?: string;
}

export interface FactoryDaemon {
  start(): Promise<void>;
  /** Run one cycle now (waits for a running one first). */
  cycle(): Promise<CycleReport>;
  stop(): Promise<void>;
  readonly store: FactoryStore;
  /** The Prometheus registry served at /metrics when `metrics` is configured. */
  readonly metrics: Registry;
  /** https:// URL of /metrics once started, when `metrics` is configured. */
  metricsUrl(): string | undefined;
}

export function dbPath(config: FactoryConfig): string {
  return join(config.work_dir, "factory.db");
}

export function createFactoryDaemon(
  config: FactoryConfig,
  opts: FactoryDaemonOptions = {},
): FactoryDaemon {
  const logger = opts.logger ?? createLogger({ name: "factory", level: config.log_level });
  const now = opts.now ?? (() => Date.now());
  logConfigDeprecations(logger, config);
  mkdirSync(config.work_dir, { recursive: true, mode: 0o700 });
  const store = new FactoryStore(dbPath(config));
  const registry = opts.registry ?? defaultAdapterRegistry();
  const adapters = new Map<string, GridAdapter>();
  let collectors: { close(): Promise<void> } | undefined;
  let collector: CollectorClient | undefined;
  const credentialCache = new CredentialCache();
  const requests = new GlideClientReader();
  const idleLifetimes = new Map<string, number>();
  const backoff = new Map<string, EntryBackoff>();
  const validationBackoff = new Map<string, ValidationBackoff>();
  const coreTime = new PilotCoreTime(config.loop.cycle_s * 1000);
  const recentFailures = new RecentFailures(store);
  const pilotLogs = new PilotLogStore(pilotLogsDir(config), config.pilot_logs);
  const metrics = createDaemonRegistry();
  const factoryMetrics = registerFactoryMetrics(metrics, store);
  let metricsListener: MetricsListener | undefined;
  let staging: StagingService | undefined;

  const publicPem = readTlsFile(config.tls.rsa_public_key_file, "tls.rsa_public_key_file");
  const keys = {
    publicPem,
    privatePem: readTlsFile(config.tls.rsa_private_key_file, "tls.rsa_private_key_file"),
    id: pubKeyId(publicPem),
  };

  // Adapter settings are checked by each adapter; a problem there is a configuration problem
  // like any other, reported with its path, every entry at once.
  const problems: ConfigProblem[] = [];
  config.entries.forEach((e, i) => {
    const make = registry.get(e.gridtype);
    if (!make) {
      problems.push({
        path: `entries[${i}].gridtype`,
        message: `no adapter for gridtype '${e.gridtype}' (have: ${[...registry.keys()].join(", ")})`,
      });
      return;
    }
    try {
      adapters.set(
        e.name,
        make(e.adapter, {
          stateDir: adapterStateDir(config, e.name),
          logger: logger.child({ entry: e.name, gridtype: e.gridtype }),
          now,
        }),
      );
    } catch (err) {
      if (!(err instanceof ZodError)) throw err;
      problems.push(...schemaProblems(err.issues, ["entries", i, "adapter"]));
    }
  });
  if (problems.length > 0) {
    store.close();
    throw new ConfigError(opts.configFile ?? "factory configuration", problems);
  }

  async function cycleOnce(): Promise<CycleReport> {
    const began = performance.now();
    const r = await runCycle({
      config,
      store,
      adapters,
      collector: collector!,
      logger,
      now,
      keys,
      credentialDir: join(config.work_dir, "credentials"),
      pilotArgs: (entry) => staging?.pilotArgs(entry) ?? [],
      credentialCache,
      requests,
      idleLifetimes,
      backoff,
      validationBackoff,
      pilotLogs,
      coreTime,
      recentFailures,
    });
    factoryMetrics.cycleDone((performance.now() - began) / 1000, r.timings);
    logger.info(
      {
        submitted: r.submitted,
        removed: r.removed,
        refused: r.refused,
        released: r.released,
        finished: r.finished,
        timings: r.timings,
      },
      "cycle done",
    );
    return r;
  }

  let requestWatch: RequestWatch | undefined;
  const loop = createCycleLoop({
    cycle: cycleOnce,
    intervalMs: () => config.loop.cycle_s * 1000,
    onError: (err) => logger.error({ err }, "cycle failed"),
  });

  return {
    store,
    metrics,
    metricsUrl: () => metricsListener?.url(),
    async start() {
      const tls = loadTlsMaterial(config.tls);
      if (config.metrics) {
        metricsListener = await startMetricsListener({
          config: config.metrics,
          registry: metrics,
          tls,
          logger,
        });
        logger.info({ url: metricsListener.url() }, "metrics served");
      }
      staging = await startStaging(config, tls, logger);
      // Every collector of the WMS pool gets the factory's ads; its requests are read from one.
      const credentials = clientCredentialsFromTls(tls);
      const set = connectCollectorSet(
        collectorUrls(config.collector),
        (url) => rpcClientFromTls(credentials, { url }),
        { onFailure: (url, err) => logger.debug({ err, collector: url }, "collector call failed") },
      );
      collectors = set;
      collector = set.collector;
      const r = await reconcile(store, adapters, now, logger);
      logger.info({ ...r }, "re-attached to pilots");
      // A new or changed request runs a cycle at once instead of at the next interval.
      requestWatch = watchRequests(set.collector, config.name, () => loop.wake(), logger);
      await loop.start();
    },
    cycle: () => loop.runNow(),
    async stop() {
      requestWatch?.stop();
      await loop.stop();
      // Withdraw our ads so frontends stop asking a factory that is gone; pilots keep running.
      for (const type of [AD_TYPE.GlideFactory, AD_TYPE.GlideFactoryClient]) {
        await collector
          ?.invalidate(
            { type, constraint: `${GLIDE_FACTORY.FactoryName} == "${config.name}"` },
            { deadlineMs: 5000 },
          )
          .catch((err: unknown) => logger.warn({ err, type }, "could not withdraw ads"));
      }
      await metricsListener?.close();
      await staging?.close();
      for (const a of adapters.values()) await a.close();
      await collectors?.close();
      store.close();
    },
  };
}
