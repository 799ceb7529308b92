/**
 * One schedd: store, queue, RPC server and timers, started and stopped together. Used by main.ts
 * and by tests (with a ManualClock and timers off, calling `tick()` themselves).
 */
import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from "node:fs";
import { join } from "node:path";
import { EXIT } from "../common/exit-codes.js";
import { serverLimitsFrom } from "../common/config-blocks.js";
import type { Logger } from "pino";
import { pino } from "pino";
import { systemClock, type Clock } from "../common/clock.js";
import { pilotRevocationsFromConfig, tokenVerifierFromConfig } from "../common/tokens-config.js";
import type { AuthzConfig } from "../security/authz.js";
import { logConfigDeprecations } from "../common/config-renames.js";
import { loadTlsMaterial, rpcServerFromBlocks } from "../common/tls-rpc.js";
import type { Registry } from "prom-client";
import type { RpcServer } from "../wire/index.js";
import { createDaemonRegistry, metricsRoute } from "../wire/metrics-route.js";
import { registerWireMetrics } from "../wire/wire-metrics.js";
import type { ScheddConfig } from "./config.js";
import { registerScheddMetrics } from "./metrics.js";
import { registerPilotMethods } from "./pilot-service.js";
import { JobQueue } from "./queue.js";
import { jobId } from "./job-status.js";
import { trustDirCheck } from "./job-proxy.js";
import { Sandboxes } from "./sandbox.js";
import { SpoolQuota } from "./spool-quota.js";
import { registerUserMethods } from "./service.js";
import { sweepSpool } from "./spool-sweep.js";
import { DEFAULT_PERIODIC_BOUNDS } from "./periodic-bounds.js";
import { ScheddStore } from "./store.js";
import { createUserBindings } from "./user-bindings.js";
import { createUserMap } from "./user-map.js";

/** How often finished jobs' spool directories are looked for (also once at start). */
const SPOOL_SWEEP_MS = 10 * 60_000;

export interface ScheddOptions {
  config: ScheddConfig;
  clock?: Clock;
  logger?: Logger;
  /** Run the lease and periodic-policy timers (default true). */
  timers?: boolean;
}

export interface Schedd {
  server: RpcServer;
  queue: JobQueue;
  /** This schedd's own Prometheus registry, served at GET /metrics. */
  metrics: Registry;
  url(): string;
  /**
   * Lapsed leases and periodic policy, once (what the timers do). A pass small enough for one
   * slice is applied before this returns; `periodicPass` waits for a longer one.
   */
  tick(): void;
  /** The periodic policy pass under way, or a new one; resolves when it ends. */
  periodicPass(): Promise<void>;
  close(): Promise<void>;
}

export async function startSchedd(opts: ScheddOptions): Promise<Schedd> {
  const cfg = opts.config;
  const clock = opts.clock ?? systemClock;
  const log = opts.logger ?? pino({ level: "silent" });
  logConfigDeprecations(log, cfg);
  const queueFile = privateStateDir(cfg.state_dir);
  const store = new ScheddStore(queueFile, {
    durability: cfg.durability,
    groupCommit: cfg.group_commit,
    // Memory is ahead of the database after a failed COMMIT; only a restart makes them agree.
    onCommitFailure: (err) => {
      log.fatal({ err }, "cannot commit to the job queue database; exiting");
      process.exit(EXIT.software);
    },
    // A batched logger (main.ts) writes the lines of the changes just committed.
    onCommit: () => log.flush(),
  });
  const queue = new JobQueue(store, clock, {
    leaseMs: cfg.lease_s * 1000,
    significantAttributes: cfg.significant_attributes,
    entryAttribute: cfg.entry_attribute,
    slotEntryAttribute: cfg.slot_entry_attribute,
    usageHalfLifeMs: cfg.usage_half_life_s * 1000,
    maxInputTransferFailures: cfg.max_input_transfer_failures,
    protectedAttrs: cfg.protected_job_attrs,
    maxUnmaterialized: cfg.max_unmaterialized_jobs,
  });
  const sandboxes = new Sandboxes(join(cfg.state_dir, "spool"), {
    maxFileBytes: cfg.sandbox.max_file_mb * 1024 * 1024,
    maxSandboxBytes: cfg.sandbox.max_sandbox_mb * 1024 * 1024,
  });
  const spoolQuota = new SpoolQuota({
    spoolDir: sandboxes.spoolDir,
    quotaBytes: cfg.sandbox.quota_mb * 1024 * 1024,
    ownerOf: (c, p) => {
      if (p !== undefined) return queue.index.jobs.get(jobId(c, p))?.owner;
      const first = queue.index.jobs.get(jobId(c, 0));
      if (first) return first.owner;
      for (const r of queue.index.jobs.values()) if (r.cluster === c) return r.owner;
      return undefined;
    },
    sweep: () => spool(),
  });
  const metrics = createDaemonRegistry();
  // Read at scrape time, once the server below exists.
  const counters = registerScheddMetrics(metrics, queue, {
    connections: () => server.connectionCount,
  });
  const server = rpcServerFromBlocks({
    listen: cfg.listen,
    tls: loadTlsMaterial(cfg.tls),
    authorization: cfg.authorization as AuthzConfig,
    ...(cfg.tokens
      ? {
          tokenVerifier: tokenVerifierFromConfig(
            cfg.tokens,
            cfg.public_url ? [cfg.public_url] : [],
          ),
          pilotRevocations: pilotRevocationsFromConfig(cfg.tokens, log),
        }
      : {}),
    limits: {
      ...serverLimitsFrom(cfg.connections),
      maxFrameSize: cfg.max_message_mb * 1024 * 1024,
    },
    logger: log,
    httpRoutes: metricsRoute(metrics),
    observer: registerWireMetrics(metrics),
  });
  const userMap = createUserMap(cfg.user_map, createUserBindings(store.db), () => clock.now());
  const checkJobProxy = trustDirCheck(
    cfg.tls.trust_dir,
    {
      caNamespaces: cfg.tls.ca_namespaces ?? "enforce",
      crlExpired: cfg.tls.crl_expired ?? "refuse",
    },
    () => clock.now(),
  );
  const deps = {
    queue,
    clock,
    userMap,
    sandboxes,
    spoolQuota,
    log,
    checkJobProxy,
    requirePilotBinding: cfg.require_pilot_binding,
  };
  registerUserMethods(server, deps);
  registerPilotMethods(server, deps);
  await server.listen();

  const tickLeases = (): void => {
    const lapsed = queue.expireLeases();
    counters.leasesExpired(lapsed.length);
    if (lapsed.length > 0) log.info({ jobs: lapsed }, "leases lapsed; jobs back to idle");
  };
  const spool = (): void => {
    const now = clock.now();
    const queued = new Set([...queue.index.jobs.values()].map((r) => r.cluster));
    // A cluster reserved for a submit in progress has inputs uploaded before its jobs exist.
    const reservedByCluster = new Map<number, boolean>();
    const reserved = (c: number): boolean => {
      let v = reservedByCluster.get(c);
      if (v === undefined) {
        const info = store.cluster(c);
        v = info !== undefined && info.submitted === 0 && now - info.created < 86_400_000;
        reservedByCluster.set(c, v);
      }
      return v;
    };
    const r = sweepSpool({
      spoolDir: sandboxes.spoolDir,
      job: (c, p) => {
        if (queue.index.jobs.has(jobId(c, p)) || reserved(c) || queue.isUnmaterialized(c, p)) {
          return { inQueue: true };
        }
        const end = store.historyEnd(c, p);
        return { inQueue: false, finished: end && { status: end.status, atMs: end.finished } };
      },
      clusterQueued: (c) => queued.has(c) || reserved(c) || queue.hasUnmaterialized(c),
      nowMs: now,
      keepOutputMs: cfg.sandbox.keep_output_s * 1000,
    });
    spoolQuota.forget();
    if (r.jobsDropped + r.inputsDropped > 0) log.info(r, "spool swept");
  };
  guard(spool, log)();
  const periodicBounds = {
    ...DEFAULT_PERIODIC_BOUNDS,
    jobStepBudget: cfg.periodic_job_step_budget,
    passStepBudget: cfg.periodic_pass_step_budget,
  };
  // One pass at a time: a pass yields to the event loop, so a timer could fire during it.
  let passRunning: Promise<void> | undefined;
  const periodicPass = (): Promise<void> => {
    passRunning ??= runPeriodicPass().finally(() => (passRunning = undefined));
    return passRunning;
  };
  const runPeriodicPass = async (): Promise<void> => {
    const pass = await queue.evaluatePeriodic(periodicBounds);
    for (const o of pass.overBound) {
      const owner = queue.index.jobs.get(o.id)?.owner;
      log.warn(
        { job: o.id, owner, expr: o.expr, bound: o.bound },
        "periodic expression met an evaluation bound; job held",
      );
    }
    if (pass.deferred > 0) {
      log.warn(
        { deferred: pass.deferred, steps: pass.steps, budget: cfg.periodic_pass_step_budget },
        "periodic pass ran out of its step budget; the rest go first next pass",
      );
    }
    if (pass.changed.length > 0) log.info({ changed: pass.changed }, "periodic policy applied");
  };
  const tickPolicy = (): void => {
    void periodicPass().catch((err: unknown) => log.error({ err }, "periodic pass failed"));
    queue.store.pruneLeases(clock.now() - 7 * 86_400_000);
    // Like HTCondor's rotated history file: finished jobs are kept for a while, not for ever.
    const pruned = queue.store.pruneHistory(clock.now() - cfg.history_s * 1000);
    if (pruned > 0) log.info({ jobs: pruned }, "history pruned");
  };
  const timers: NodeJS.Timeout[] = [];
  if (opts.timers ?? true) {
    timers.push(setInterval(guard(tickLeases, log), cfg.lease_check_s * 1000));
    timers.push(setInterval(guard(tickPolicy, log), cfg.periodic_s * 1000));
    timers.push(setInterval(guard(spool, log), SPOOL_SWEEP_MS));
    timers.push(
      setInterval(
        guard(() => store.checkpoint(), log),
        cfg.checkpoint_s * 1000,
      ),
    );
  }
  log.info(
    {
      url: server.url(),
      jobs: queue.index.jobs.size,
      significant: queue.index.significantAttributes,
    },
    "schedd ready",
  );
  return {
    server,
    queue,
    metrics,
    url: () => server.url(),
    tick() {
      tickLeases();
      tickPolicy();
      spool();
    },
    periodicPass,
    async close() {
      for (const t of timers) clearInterval(t);
      await passRunning;
      await server.close();
      store.close();
    },
  };
}

/**
 * The state directory holds every job's ad, inputs (proxies and tokens among them) and outputs:
 * 0700 for the schedd's user alone, files 0600. SQLite gives its WAL and shared-memory files
 * the database file's mode, so the database is created 0600 before it is opened. Modes of an
 * older, looser state directory are tightened at start.
 */
function privateStateDir(stateDir: string): string {
  const spool = join(stateDir, "spool");
  for (const dir of [stateDir, spool]) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    chmodSync(dir, 0o700);
  }
  const queueFile = join(stateDir, "queue.sqlite");
  closeSync(openSync(queueFile, "a", 0o600));
  for (const f of [queueFile, `${queueFile}-wal`, `${queueFile}-shm`]) {
    if (existsSync(f)) chmodSync(f, 0o600);
  }
  return queueFile;
}

function guard(fn: () => void, log: Logger): () => void {
  return () => {
    try {
      fn();
    } catch (err) {
      log.error({ err }, "timer task failed");
    }
  };
}
