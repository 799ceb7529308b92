/**
 * The frontend daemon: every `cycle_s` seconds, gather a snapshot from the live daemons, run
 * the pure cycle on it, and advertise what it returns. All policy is in `runCycle`; this file is
 * the IO around it (connections, credential files, the collector's advertise and invalidate).
 * Start connects to the collector and schedds (unless the caller hands in its own peers, which it
 * then keeps and closes) and opens the metrics listener; stop closes what start opened.
 *
 * On stop nothing is withdrawn, as glideinWMS frontends do: the GlideClient ads expire at the
 * collector on their own, so a frontend restarted for an upgrade does not make factories drop
 * their requests (and start removing idle pilots) for the minute it is away.
 */
import { AD_TYPE, COMMON } from "../ads/index.js";
import { readFileSync } from "node:fs";
import type { CollectorClient } from "../collector/client.js";
import { connectCollectorSet } from "../collector/collector-set.js";
import { ConfigError } from "../common/config.js";
import { logConfigDeprecations } from "../common/config-renames.js";
import { createCycleLoop } from "../common/cycle-loop.js";
import { clientCredentialsFromTls, loadTlsMaterial, rpcClientFromTls } from "../common/tls-rpc.js";
import { createLogger, type Logger } from "../common/logger.js";
import type { RpcClient } from "../wire/index.js";
import { scheddClient } from "../schedd/client.js";
import {
  factoryCollectorUrls,
  fixedScheddUrls,
  poolCollectorUrls,
  scheddAdConstraint,
  type CeTokensConfig,
  type FrontendConfig,
  type PilotTokensConfig,
} from "./config.js";
import { createScheddDirectory } from "./schedd-discovery.js";
import { silentLogger } from "../wire/silent-logger.js";
import { createCredentialSealer } from "./credential-seal.js";
import { runCycleSliced, type CycleResult } from "./cycle.js";
import { runInSlices, type SliceBounds } from "./slices.js";
import { collectorLabels, factoryPinFilter, gatherSnapshot, type Peers } from "./gather.js";
import { registerFrontendMetrics } from "./metrics.js";
import type { Registry } from "prom-client";
import { createDaemonRegistry } from "../wire/metrics-route.js";
import { type MetricsListener, startMetricsListener } from "../wire/metrics-listener.js";
import { createSlotWriterFilter, credentialIdentity } from "./slot-writers.js";
import { startVoStaging, type VoStaging } from "./vo-staging.js";
import { attachPilotProxies } from "./pilot-proxies.js";
import {
  attachPilotTokens,
  createPilotTokenMinter,
  pilotTokenAudiences,
  type PilotTokenMinter,
} from "./pilot-tokens.js";
import { groupSchedds } from "./ads.js";
import {
  parseSlotAds,
  proxySigner,
  renewalsDue,
  renewPilotCredentials,
  tokenSigner,
  type RenewalSigner,
} from "./pilot-renewal.js";
import {
  attachCeTokens,
  createCeTokenMinter,
  readCeTokenFiles,
  type CeTokenMinter,
  type CeTokenSource,
} from "./ce-tokens.js";

export interface CycleReport {
  result: CycleResult;
  unreachable: string[];
  advertised: number;
  withdrawn: number;
}

/** Credential file contents by configured path; read every cycle so a renewed proxy is used. */
export function readCredentials(config: FrontendConfig, log: Logger): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const c of config.security.credentials) {
    if (c.file === undefined) continue; // minted pilot tokens have no file
    try {
      out.set(c.file, readFileSync(c.file));
    } catch (err) {
      // Only the path is logged, never the contents.
      log.warn({ file: c.file, reason: (err as Error).message }, "cannot read credential file");
    }
  }
  return out;
}

/** Whether this frontend signs pilot credentials it can renew: pilot tokens or pilot proxies. */
function renewsPilots(config: FrontendConfig): boolean {
  return (
    config.security.pilot_tokens !== undefined ||
    config.security.credentials.some((c) => c.type === "pilot_proxies")
  );
}

export type ConnectedPeers = Peers & { close(): Promise<void> };

/**
 * Connections to the configured collectors and schedds with the frontend's certificate: the
 * factories' collector(s) and, when the user pool has its own, the pool's.
 */
export function connectPeers(config: FrontendConfig, log?: Logger): ConnectedPeers {
  const tls = config.tls;
  if (!tls) {
    throw new ConfigError("frontend configuration", [
      { path: "tls", message: "required to reach the collector and schedds (cert_file, key_file)" },
    ]);
  }
  // One TLS context for every peer: the files are read once, here.
  const credentials = clientCredentialsFromTls(loadTlsMaterial(tls));
  const timeoutMs = Math.round(config.peer_timeout_s * 1000);
  const connect = (url: string): RpcClient =>
    rpcClientFromTls(credentials, { url, defaultDeadlineMs: timeoutMs });
  const onFailure = (url: string, err: unknown) =>
    log?.debug({ err, collector: url }, "collector call failed");
  const factory = connectCollectorSet(factoryCollectorUrls(config), connect, { onFailure });
  // One pool: the factories' collector is the pool's, so the same connections serve both.
  const pool = config.factory_collector
    ? connectCollectorSet(poolCollectorUrls(config), connect, { onFailure })
    : factory;
  const schedds = fixedScheddUrls(config).map((url) => ({
    url,
    client: scheddClient(connect(url)),
  }));
  const constraint = scheddAdConstraint(config);
  const directory =
    constraint === undefined
      ? undefined
      : createScheddDirectory({
          collector: pool.collector,
          constraint,
          trusted: config.security.schedd_identities,
          connect,
          timeoutMs,
          log: log ?? silentLogger(),
        });
  return {
    collector: factory.collector,
    poolCollector: pool.collector,
    schedds,
    ...(directory ? { findSchedds: () => directory.find() } : {}),
    timeoutMs,
    async close() {
      await Promise.all([
        factory.close(),
        ...(pool === factory ? [] : [pool.close()]),
        ...schedds.map((s) => s.client.rpc.close()),
        ...(directory ? [directory.close()] : []),
      ]);
    },
  };
}

export interface FrontendDaemonOptions {
  /** Peers to use instead of connecting to the configured ones; the caller closes them. */
  peers?: Peers;
  logger?: Logger;
  /** Milliseconds since the epoch. */
  now?: () => number;
  /** How long the cycle's match runs before the event loop gets a turn (default: slices.ts). */
  slices?: SliceBounds;
}

export interface FrontendDaemon {
  /** Connect to the peers, open the `metrics` listener when configured, then run cycles every
   * cycle_s until stop(); resolves once listening (the first cycle runs on in the background). */
  start(): Promise<void>;
  /** Run one cycle now (after the one in flight); needs start() unless peers were handed in. */
  cycle(): Promise<CycleReport>;
  stop(): Promise<void>;
  /** The Prometheus registry served at /metrics. */
  readonly metrics: Registry;
  /** https:// URL of /metrics once started, when `metrics` is configured. */
  metricsUrl(): string | undefined;
}

async function advertiseAll(
  collector: CollectorClient,
  result: CycleResult,
  timeoutMs: number,
  log: Logger,
): Promise<number> {
  let n = 0;
  const batches: [string, typeof result.glideClientAds][] = [
    [AD_TYPE.GlideClient, result.glideClientAds],
    [AD_TYPE.GlideResource, result.glideResourceAds],
  ];
  for (const [type, ads] of batches) {
    if (ads.length === 0) continue;
    const outcomes = await collector.advertise(
      ads.map((a) => a.toJSON()),
      type,
      { deadlineMs: timeoutMs },
    );
    for (const o of outcomes) {
      if (o.ok) n++;
      // Taken with a code: some collectors of the set refused it (the message says which).
      if (!o.ok || o.code !== "") {
        log.warn({ type, name: o.name, code: o.code, message: o.message }, "ad refused");
      }
    }
  }
  return n;
}

export function createFrontendDaemon(
  config: FrontendConfig,
  options: FrontendDaemonOptions = {},
): FrontendDaemon {
  const log = options.logger ?? createLogger({ name: "frontend", level: config.log_level });
  logConfigDeprecations(log, config);
  const now = options.now ?? Date.now;
  let previous: string[] = [];
  const sealer = createCredentialSealer();
  // One filter for the daemon's life, so refused writers are logged once per interval.
  const factoryPins = options.peers?.factoryPins ?? factoryPinFilter(config, log);
  const slotWriters = options.peers?.slotWriters ?? createSlotWriterFilter(log);
  const withFilters = (p: Peers): Peers => ({ ...p, factoryPins, slotWriters });
  let peers: Peers | undefined = options.peers && withFilters(options.peers);
  // Only the connections start() opened are closed by stop().
  let connected: ConnectedPeers | undefined;
  const metrics = createDaemonRegistry();
  const frontendMetrics = registerFrontendMetrics(metrics);
  let metricsListener: MetricsListener | undefined;
  let voStaging: VoStaging | undefined;

  async function cycle(): Promise<CycleReport> {
    const began = performance.now();
    try {
      const report = await cycleSteps();
      const seconds = (performance.now() - began) / 1000;
      frontendMetrics.cycleDone(report.result.plans, report.unreachable.length, seconds);
      return report;
    } catch (err) {
      frontendMetrics.cycleFailed((performance.now() - began) / 1000);
      throw err;
    }
  }

  // The issuer key is read once; a directory that cannot be read is retried next cycle.
  let minter: PilotTokenMinter | undefined;
  // The schedds of the latest snapshot: found ones come and go, and tokens name them.
  let currentSchedds = fixedScheddUrls(config);
  const loadMinter = (cfg: PilotTokensConfig) =>
    createPilotTokenMinter(
      cfg,
      () => pilotTokenAudiences(config, currentSchedds),
      config.pilot.max_walltime_s,
    );
  async function mintPilotCredentials(result: CycleResult): Promise<void> {
    const proxies = result.pendingTokens.filter((p) => p.proxyIssuer !== undefined);
    const tokens = result.pendingTokens.filter((p) => p.proxyIssuer === undefined);
    if (proxies.length > 0) {
      const r = await attachPilotProxies(
        proxies,
        result.glideClientAds,
        { ...config.security.pilot_proxies, max_walltime_s: config.pilot.max_walltime_s },
        sealer,
        log,
        () => new Date(now()),
      );
      log.debug(r, "pilot proxies minted");
    }
    if (tokens.length > 0) await mintPilotTokens(result, tokens);
  }
  async function mintPilotTokens(
    result: CycleResult,
    pendingTokens: CycleResult["pendingTokens"],
  ): Promise<void> {
    const cfg = config.security.pilot_tokens;
    try {
      if (!cfg) throw new Error("security.pilot_tokens is not configured");
      minter ??= await loadMinter(cfg);
    } catch (err) {
      log.error(
        { dir: cfg?.dir, reason: (err as Error).message },
        "cannot load the pilot-token issuer; requests needing pilot tokens not advertised",
      );
      const pending = new Set(pendingTokens.map((p) => p.ad));
      result.glideClientAds = result.glideClientAds.filter((a) => !pending.has(a));
      return;
    }
    const r = await attachPilotTokens(pendingTokens, result.glideClientAds, minter, sealer, log);
    log.debug(r, "pilot tokens minted");
  }

  // The CE-token issuer, read once; a directory that cannot be read is retried next cycle.
  // Ready-made token files are read every cycle instead, as their tools refresh them in place.
  let ceMinter: CeTokenMinter | undefined;
  async function ceTokenSource(cfg: CeTokensConfig): Promise<CeTokenSource | undefined> {
    if (cfg.files !== undefined) {
      const { source, unreadable } = readCeTokenFiles(cfg.files, now());
      for (const u of unreadable) log.warn(u, "cannot read a CE token file");
      return source;
    }
    try {
      ceMinter ??= await createCeTokenMinter(cfg, config.name);
      return ceMinter;
    } catch (err) {
      log.error(
        { dir: cfg.dir, reason: (err as Error).message },
        "cannot load the CE-token issuer; requests go without CE tokens",
      );
      return undefined;
    }
  }
  async function attachCeTokensTo(result: CycleResult): Promise<void> {
    const cfg = config.security.ce_tokens;
    if (!cfg || result.pendingCeTokens.length === 0) return;
    const source = await ceTokenSource(cfg);
    if (!source) return;
    const r = await attachCeTokens(result.pendingCeTokens, source, sealer, log, now());
    log.debug(r, "CE tokens attached");
  }

  // `exp` of the credentials renewed per pilot (`pilot-<id>`), so a pilot is renewed once each.
  const renewed = new Map<string, number>();
  /** Each kind of renewable pilot credential this frontend signs: who signs, for how long, how. */
  async function renewalSigners(
    credentials: ReadonlyMap<string, Buffer>,
  ): Promise<{ signer: string; lifetimeS: number; sign: RenewalSigner }[]> {
    const out: { signer: string; lifetimeS: number; sign: RenewalSigner }[] = [];
    const cfg = config.security.pilot_tokens;
    if (cfg) {
      try {
        minter ??= await loadMinter(cfg);
        out.push({
          signer: minter.issuer,
          lifetimeS: cfg.lifetime_s,
          sign: tokenSigner(minter, sealer),
        });
      } catch (err) {
        log.error(
          { dir: cfg.dir, reason: (err as Error).message },
          "cannot load the pilot-token issuer; no token renewals",
        );
      }
    }
    const seen = new Set<string>();
    for (const c of config.security.credentials) {
      if (c.type !== "pilot_proxies" || c.file === undefined) continue;
      const text = credentials.get(c.file)?.toString("latin1");
      const subject = text === undefined ? undefined : credentialIdentity(text, c.type);
      if (text === undefined || subject === undefined || seen.has(subject)) continue;
      seen.add(subject);
      const lifetimeS = config.security.pilot_proxies.lifetime_s;
      out.push({ signer: subject, lifetimeS, sign: proxySigner(text, lifetimeS) });
    }
    return out;
  }
  async function renewRunningPilots(
    slotAds: Record<string, string>[],
    live: Peers,
    credentials: ReadonlyMap<string, Buffer>,
  ) {
    const nowMs = now();
    const nowS = Math.floor(nowMs / 1000);
    for (const [sub, exp] of renewed) if (exp <= nowS) renewed.delete(sub);
    const ads = parseSlotAds(slotAds);
    for (const { signer, lifetimeS, sign } of await renewalSigners(credentials)) {
      const due = renewalsDue(ads, { signer, frontend: config.name, lifetimeS, nowS, renewed });
      if (due.length === 0) continue;
      try {
        const given = await renewPilotCredentials(
          due,
          {
            sign,
            // Where the pilots report and look for their renewed credentials.
            collector: live.poolCollector ?? live.collector,
            timeoutMs: live.timeoutMs,
            log,
            // As GLIDEIN_Schedds for a new pilot of the group: a token is signed for them too.
            scheddsFor: (group) => {
              const g = config.groups.find((x) => x.name === group);
              return g ? groupSchedds(currentSchedds, g.schedds) : [];
            },
          },
          nowMs,
        );
        for (const [sub, exp] of given) renewed.set(sub, exp);
      } catch (err) {
        log.warn(
          { err, pilots: due.length },
          "could not renew pilot credentials; retried next cycle",
        );
      }
    }
  }

  async function cycleSteps(): Promise<CycleReport> {
    const live = peers;
    if (!live) throw new Error("the frontend is not started: start() connects to its peers");
    const nowS = Math.floor(now() / 1000);
    const { snapshot, unreachable, ownSlotAds } = await gatherSnapshot(config, live, log, nowS);
    currentSchedds = snapshot.schedds ?? currentSchedds;
    const credentials = readCredentials(config, log);
    // In slices: a hostile queue's match is seconds of evaluation, and /metrics must still answer.
    const result = await runInSlices(
      runCycleSliced({
        config,
        snapshot,
        credentials,
        sealer,
        ...(voStaging ? { voBundles: voStaging.bundles } : {}),
        previousClientAds: previous,
        now: nowS,
      }),
      options.slices,
    );
    if (result.pendingTokens.length > 0) await mintPilotCredentials(result);
    if (result.pendingCeTokens.length > 0) await attachCeTokensTo(result);
    const labels = collectorLabels(config);
    if (renewsPilots(config) && !unreachable.includes(labels.pool)) {
      await renewRunningPilots(ownSlotAds, live, credentials);
    }
    for (const s of result.skipped) log.warn(s, "entry wanted but no GlideClient ad");
    for (const plan of result.plans) {
      // At most a few lines a cycle: the first autoclusters, then how many more.
      for (const o of plan.overBound.slice(0, 5)) {
        log.warn(
          { group: plan.group, ...o },
          "autocluster met an evaluation bound; it matches no entry this cycle",
        );
      }
      if (plan.overBound.length > 5 || plan.cycleExhausted) {
        log.warn(
          {
            group: plan.group,
            overBound: plan.overBound.length,
            cycleExhausted: plan.cycleExhausted,
          },
          "match evaluation bounded this cycle; raise autocluster_step_budget or cycle_step_budget only for trusted jobs",
        );
      }
    }
    let advertised = 0;
    let withdrawn = 0;
    if (unreachable.includes(labels.factory) || unreachable.includes(labels.pool)) {
      // Without the entries every request would look unwanted and be withdrawn, and without the
      // pilots every entry would look empty; leave the previous cycle's ads in place (they
      // expire on their own if this lasts).
      log.warn({ unreachable }, "collector unreachable; nothing advertised");
      return { result, unreachable, advertised, withdrawn };
    }
    try {
      advertised = await advertiseAll(live.collector, result, live.timeoutMs, log);
      for (const name of result.withdraw) {
        const r = await live.collector.invalidate(
          { type: AD_TYPE.GlideClient, name },
          { deadlineMs: live.timeoutMs },
        );
        withdrawn += r.removed;
      }
      previous = result.glideClientAds.map((a) => String(a.evaluate(COMMON.Name)));
    } catch (err) {
      // Keep the previous names: what could not be withdrawn now is retried next cycle.
      log.warn({ err, collector: labels.factory }, "could not advertise to the collector");
    }
    log.info(
      { advertised, withdrawn, unreachable, skipped: result.skipped.length },
      "frontend cycle done",
    );
    return { result, unreachable, advertised, withdrawn };
  }

  const loop = createCycleLoop({
    cycle,
    intervalMs: () => config.cycle_s * 1000,
    onError: (err) => log.error({ err }, "frontend cycle failed"),
  });

  return {
    async start() {
      if (!peers) {
        connected = connectPeers(config, log);
        peers = withFilters(connected);
      }
      if (config.metrics && config.tls) {
        metricsListener = await startMetricsListener({
          config: config.metrics,
          registry: metrics,
          tls: loadTlsMaterial(config.tls),
          logger: log,
        });
        log.info({ url: metricsListener.url() }, "metrics served");
      }
      // Before the first cycle: no group's pilots may start without the scripts it sends.
      voStaging = await startVoStaging(config, config.tls && loadTlsMaterial(config.tls));
      for (const [group, b] of voStaging?.bundles ?? []) {
        log.info(
          { group, url: b.url, sha256: b.sha256, files: b.files.length },
          "VO scripts staged",
        );
      }
      void loop.start();
    },
    cycle: () => loop.runNow(),
    async stop() {
      await loop.stop();
      await metricsListener?.close();
      await voStaging?.close();
      await connected?.close();
    },
    metrics,
    metricsUrl: () => metricsListener?.url(),
  };
}
