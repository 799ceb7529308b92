/**
 * A running collector: core, RPC server, expiry timer, own-ad refresh and optional snapshot, put
 * together from a validated configuration. Clock and timers are injectable for tests.
 */
import { hostname } from "node:os";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import { pino } from "pino";
import { type Clock, systemClock } from "../common/clock.js";
import { serverLimitsFrom } from "../common/config-blocks.js";
import { pilotRevocationsFromConfig, tokenVerifierFromConfig } from "../common/tokens-config.js";
import type { AuthzConfig } from "../security/authz.js";
import { logConfigDeprecations } from "../common/config-renames.js";
import { loadTlsMaterial, rpcServerFromBlocks } from "../common/tls-rpc.js";
import { createDaemonRegistry, metricsRoute } from "../wire/metrics-route.js";
import { registerWireMetrics } from "../wire/wire-metrics.js";
import type { RpcServer, ServerLimits } from "../wire/server.js";
import { CollectorCore } from "./collector.js";
import { registerCollectorMetrics } from "./metrics.js";
import { type CollectorConfig, lifetimeResolver, writeRolesResolver } from "./config.js";
import { registerCollectorService } from "./service.js";
import { type Snapshot, openSnapshot } from "./snapshot.js";
import { DeadlineTimer, every, realTimers, type Timers } from "./timers.js";
import { type HistoryStore, openHistory } from "../monitor/history-store.js";
import { poolPageRoutes } from "../monitor/pool-page.js";
import { createPoolSampler } from "../monitor/pool-sampler.js";
import type { AdsOfType } from "../monitor/pool-view.js";

export interface CollectorDeps {
  clock?: Clock;
  timers?: Timers;
  logger?: Logger;
  /** Wire limits (frame size, concurrency...) for tests and benchmarks. */
  serverLimits?: Partial<ServerLimits>;
}

export interface CollectorDaemon {
  readonly core: CollectorCore;
  readonly server: RpcServer;
  /** This collector's own Prometheus registry, served at GET /metrics. */
  readonly metrics: Registry;
  /** Take one sample of the pool into the history now (what the timer does); how many series. */
  sampleHistory(): number;
  /** Bind, restore the snapshot if any, publish the own ad; resolves with the wss:// URL. */
  start(): Promise<string>;
  /** Snapshot (if enabled), stop timers and close the server. */
  stop(): Promise<void>;
}

export function createCollectorDaemon(
  config: CollectorConfig,
  deps: CollectorDeps = {},
): CollectorDaemon {
  const clock = deps.clock ?? systemClock;
  const timers = deps.timers ?? realTimers;
  const log = (deps.logger ?? pino({ level: "silent" })).child({ component: "collector" });
  if (deps.logger) logConfigDeprecations(deps.logger, config);
  const tls = loadTlsMaterial(config.tls);
  const identity = tls.identity;
  const name = config.name ?? `collector@${hostname()}`;
  const core = new CollectorCore({
    clock,
    writeRolesFor: writeRolesResolver(config),
    lifetimeFor: lifetimeResolver(config),
    maxLifetime: config.lifetime.max_s,
    limits: {
      maxAdBytes: config.limits.max_ad_bytes,
      maxAttributes: config.limits.max_attributes,
      maxAdsPerIdentity: config.limits.max_ads_per_identity,
    },
    name,
    identity,
    perWriterTypes: config.per_writer_types,
    requirePilotBinding: config.require_pilot_binding,
  });
  const metrics = createDaemonRegistry();
  // Sources are read at scrape time, after the server and service below exist.
  const collectorMetrics = registerCollectorMetrics(metrics, core, {
    watchers: () => service.watchers,
    connections: () => server.connectionCount,
  });
  const adsOf: AdsOfType = function* (type) {
    for (const s of core.store.select(type, () => true)) yield s.ad;
  };
  // Opened here so that a history file that cannot be opened fails the start, loudly.
  const history: HistoryStore | undefined = config.history
    ? openHistory(config.history.path, { maxSeries: config.history.max_series })
    : undefined;
  const sampler = history ? createPoolSampler(adsOf, history, log) : undefined;
  const server = rpcServerFromBlocks({
    listen: config.listen,
    tls,
    allowLimitedProxies: config.tls.allow_limited_proxies,
    authorization: config.authorization as AuthzConfig,
    ...(config.tokens
      ? {
          tokenVerifier: tokenVerifierFromConfig(config.tokens),
          pilotRevocations: pilotRevocationsFromConfig(config.tokens, log),
        }
      : {}),
    limits: { ...serverLimitsFrom(config.connections), ...deps.serverLimits },
    logger: deps.logger,
    httpRoutes: {
      ...metricsRoute(metrics),
      ...poolPageRoutes({ adsOf, history, now: () => clock.now() }),
    },
    observer: registerWireMetrics(metrics),
  });
  const service = registerCollectorService(server, core, {
    maxWatchers: config.limits.max_watchers,
    onQuery: collectorMetrics.queryDone,
    queryBounds: {
      queryStepBudget: config.limits.query_step_budget,
      watchStepBudget: config.limits.watch_step_budget,
      sliceSeconds: config.limits.query_slice_s,
    },
  });

  const expiry = new DeadlineTimer(
    clock,
    timers,
    () => core.store.nextDeadline(),
    () => {
      const n = core.expire();
      if (n > 0) log.debug({ expired: n }, "ads expired");
    },
  );
  // Any ad stored may bring the next deadline nearer.
  core.store.subscribe((e) => {
    if (e.kind === "upserted") expiry.reschedule();
  });

  let snapshot: Snapshot | undefined;
  const stoppers: (() => void)[] = [];
  const publishSelf = () => {
    const mem = process.memoryUsage();
    core.publishSelf(
      {
        MyAddress: JSON.stringify(server.url()),
        Watchers: String(service.watchers),
        // As HTCondor daemons publish them: KiB.
        ImageSize: String(Math.round((mem.rss + mem.external) / 1024)),
        ResidentSetSize: String(Math.round(mem.rss / 1024)),
      },
      config.self_ad_interval_s * 3,
    );
  };
  const saveSnapshot = () => {
    if (!snapshot) return;
    try {
      const n = snapshot.save(core);
      log.debug({ ads: n }, "snapshot written");
    } catch (err) {
      log.error({ err }, "snapshot failed");
    }
  };

  return {
    core,
    server,
    metrics,
    sampleHistory: () => sampler?.sample(clock.now()) ?? 0,
    async start() {
      if (config.snapshot) {
        snapshot = openSnapshot(config.snapshot.path);
        const n = snapshot.load(core);
        log.info({ ads: n, path: config.snapshot.path }, "snapshot restored");
        stoppers.push(every(timers, config.snapshot.period_s * 1000, saveSnapshot));
      }
      const address = await server.listen();
      publishSelf();
      stoppers.push(every(timers, config.self_ad_interval_s * 1000, publishSelf));
      if (sampler && config.history)
        stoppers.push(
          every(timers, config.history.sample_s * 1000, () => sampler.sample(clock.now())),
        );
      expiry.reschedule();
      log.info({ name, identity, port: address.port }, "collector started");
      return server.url();
    },
    async stop() {
      for (const stop of stoppers.splice(0)) stop();
      expiry.stop();
      // Closed first so that the snapshot holds every ad accepted before the end.
      await server.close();
      saveSnapshot();
      snapshot?.close();
      snapshot = undefined;
      history?.close();
      log.info("collector stopped");
    },
  };
}
