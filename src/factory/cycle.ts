/**
 * One factory cycle: observe (poll adapters, fetch finished output), tidy (holds, stale pilots),
 * decide (pure, from a snapshot), apply (remove, then submit through the intent protocol), and
 * advertise. Each step's IO errors are logged and counted; one entry's failure does not stop
 * the others.
 */
import type { CollectorClient } from "../collector/client.js";
import type { Logger } from "../common/logger.js";
import { buildGlideFactoryAd, buildGlideFactoryClientAd } from "./ads.js";
import { type GridAdapter, type PilotSpec, toPilotState } from "./adapters/types.js";
import { readGlideClientAd, type ParsedRequest } from "./client-requests.js";
import type { EntryConfig, FactoryConfig } from "./config.js";
import { type StoredCredential, storeClientCredential } from "./credentials.js";
import { decide } from "./decide.js";
import type { ClientCounts, Decision } from "./decide-types.js";
import { inDowntime } from "./downtime.js";
import { parsePilotReport } from "./pilot-report.js";
import { entryPolicy, securityClasses } from "./policy.js";
import { reconcile, statusChange } from "./reconcile.js";
import { sanitize } from "./sanitize.js";
import type { FactoryStore, PilotRow, StateChange } from "./store.js";
import { type SubmitJob, submitAll } from "./submitter.js";

export interface CycleDeps {
  config: FactoryConfig;
  store: FactoryStore;
  /** By entry name. */
  adapters: ReadonlyMap<string, GridAdapter>;
  collector: CollectorClient;
  logger: Logger;
  now: () => number;
  keys: { privatePem: string; publicPem: string; id: string };
  credentialDir: string;
  /** Extra pilot arguments, e.g. the staging URL and manifest hash. */
  pilotArgs?: () => string[];
  /**
   * Decrypted credentials by ciphertext, kept across cycles: a frontend re-advertises the same
   * ciphertext until it re-encrypts, and RSA decryption is the costliest step of a cycle.
   */
  credentialCache?: Map<string, StoredCredential>;
}

export interface CycleReport {
  submitted: number;
  removed: number;
  refused: number;
  released: number;
  finished: number;
  decision: Decision;
  /** Milliseconds per step, for the log and to see where a slow cycle goes. */
  timings: Record<string, number>;
}

export async function runCycle(d: CycleDeps): Promise<CycleReport> {
  const log = d.logger;
  const report: CycleReport = {
    submitted: 0,
    removed: 0,
    refused: 0,
    released: 0,
    finished: 0,
    decision: { clients: [], refused: [] },
    timings: {},
  };
  let mark = performance.now();
  const lap = (step: string) => {
    const t = performance.now();
    report.timings[step] = Math.round(t - mark);
    mark = t;
  };
  await pollStatus(d);
  lap("poll");
  report.finished = await collectOutputs(d);
  lap("outputs");
  const tidied = await tidy(d);
  lap("tidy");
  report.released = tidied.released;
  report.removed += tidied.removed;

  const parsed = await readRequests(d);
  lap("read_requests");
  const now = d.now();
  const live = d.store.live();
  const decision = decide({
    now,
    entries: d.config.entries.map((e) => entryPolicy(d.config, e)),
    securityClasses: securityClasses(d.config),
    downtimes: d.store.downtimes(),
    requests: parsed.map((p) => p.request),
    // Rows are TrackedPilots already. Pilots being removed no longer count: otherwise a slow
    // removal would make the next cycle remove the same excess again from other pilots.
    pilots: live.filter((p) => p.removeReason === null),
  });
  report.decision = decision;
  lap("decide");
  if (decision.refused.length > 0) {
    d.store.transaction(() => {
      for (const r of decision.refused) d.store.count(r.entry, r.client, "refused");
    });
  }
  for (const r of decision.refused) {
    report.refused++;
    log.warn(
      {
        entry: r.entry,
        client: r.client,
        securityClass: r.securityClass,
        identity: r.authenticatedIdentity,
        reason: r.reason,
      },
      "GlideClient request refused",
    );
  }
  const byKey = new Map(parsed.map((p) => [`${p.request.entry}\u0000${p.request.client}`, p]));
  const jobs: SubmitJob[] = [];
  for (const c of decision.clients) {
    const adapter = d.adapters.get(c.entry);
    if (!adapter) continue;
    if (c.remove.length > 0) {
      const handles = c.remove.flatMap((r) => d.store.liveById(r.pilotId)?.handle ?? []);
      d.store.transaction(() => {
        for (const r of c.remove) d.store.markRemoveRequested([r.pilotId], r.reason);
      });
      await guarded(log, c.entry, () => adapter.remove(handles));
      report.removed += c.remove.length;
    }
    if (c.submit > 0) {
      const req = byKey.get(`${c.entry}\u0000${c.client}`)!;
      const job = prepareSubmit(d, adapter, req, c.submit);
      if (job) jobs.push(job);
    }
  }
  lap("remove");
  const sums = await submitAll(d.store, jobs, d.now);
  d.store.transaction(() => {
    jobs.forEach((j, i) => {
      const sum = sums[i]!;
      const { entry, client } = j.req.intent;
      report.submitted += sum.submitted;
      if (sum.submitted > 0) d.store.count(entry, client, "submitted", sum.submitted);
      if (sum.failed > 0) {
        d.store.count(entry, client, "submit_failed", sum.failed);
        d.store.recordError(entry, client, d.now(), `submit failed: ${sum.lastError ?? "?"}`);
        log.warn({ entry, client, failed: sum.failed, error: sum.lastError }, "submit failed");
      }
    });
  });
  if (jobs.length > 0)
    log.info({ submitted: report.submitted, jobs: jobs.length }, "submitted pilots");
  lap("submit");
  d.store.recordClientStatus([
    ...decision.clients.map((c) => ({
      entry: c.entry,
      client: c.client,
      frontend: c.frontend,
      reqIdle: c.reqIdle,
      reqMax: c.reqMax,
      limitsHit: c.limitsHit.join(","),
      at: now,
    })),
    ...decision.refused.map((r) => ({
      entry: r.entry,
      client: r.client,
      frontend: r.frontend,
      reqIdle: 0,
      reqMax: 0,
      limitsHit: "",
      refused: r.reason,
      at: now,
    })),
  ]);
  lap("client_status");
  await advertise(d, decision);
  lap("advertise");
  return report;
}

async function guarded<T>(
  log: Logger,
  entry: string,
  fn: () => Promise<T>,
): Promise<T | undefined> {
  try {
    return await fn();
  } catch (err) {
    log.error({ err, entry }, "adapter call failed");
    return undefined;
  }
}

const entryIndex = new WeakMap<FactoryConfig, Map<string, EntryConfig>>();

function entryConfig(d: CycleDeps, name: string): EntryConfig | undefined {
  let m = entryIndex.get(d.config);
  if (!m) entryIndex.set(d.config, (m = new Map(d.config.entries.map((e) => [e.name, e]))));
  return m.get(name);
}

/** Bulk status per entry; only changed pilots are written. */
export async function pollStatus(d: CycleDeps): Promise<void> {
  // One pass: pilots and their handles per entry.
  const byEntry = new Map<string, { pilots: Readonly<PilotRow>[]; handles: string[] }>();
  for (const p of d.store.live()) {
    if (!p.handle) continue;
    let g = byEntry.get(p.entry);
    if (!g) byEntry.set(p.entry, (g = { pilots: [], handles: [] }));
    g.pilots.push(p);
    g.handles.push(p.handle);
  }
  const answers = await Promise.all(
    [...byEntry].map(async ([entry, { pilots, handles }]) => {
      const adapter = d.adapters.get(entry);
      const status = adapter
        ? await guarded(d.logger, entry, () => adapter.status(handles))
        : undefined;
      return { pilots, status };
    }),
  );
  const changes: StateChange[] = [];
  const held: PilotRow[] = [];
  for (const { pilots, status } of answers) {
    if (!status) continue;
    for (const p of pilots) {
      const s = status.get(p.handle!);
      if (!s) continue;
      if (
        toPilotState(s.state) === p.state &&
        (s.waiting ?? false) === p.waiting &&
        (s.holdReason ?? null) === p.holdReason
      ) {
        continue;
      }
      const c = statusChange(p.id, s);
      {
        changes.push(c);
        if (c.state === "Held" && p.state !== "Held")
          held.push({ ...p, holdReason: c.holdReason ?? null });
      }
    }
  }
  // One transaction for the whole poll: a durable write per pilot would dominate the cycle.
  d.store.transaction(() => {
    d.store.applyStates(changes, d.now());
    for (const p of held)
      d.store.recordError(p.entry, p.client, d.now(), `held: ${p.holdReason ?? ""}`);
  });
}

function groupByEntry<T extends { entry: string }>(rows: readonly T[]): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const p of rows) {
    let list = m.get(p.entry);
    if (!list) m.set(p.entry, (list = []));
    list.push(p);
  }
  return m;
}

/** Fetch and parse finished pilots' output once, count the outcome, then let the adapter forget. */
async function collectOutputs(d: CycleDeps): Promise<number> {
  let n = 0;
  for (const p of d.store.unfetched()) {
    const adapter = d.adapters.get(p.entry);
    if (!adapter || !p.handle) continue;
    const out = await guarded(d.logger, p.entry, () => adapter.fetchOutput(p.handle!));
    if (!out) continue;
    const outcome = parsePilotReport(out.stdout);
    const failed = (p.exitCode ?? 0) !== 0 || outcome.validationOk === false;
    d.store.transaction(() => {
      d.store.recordOutcome(p.id, { ...outcome, failed });
      d.store.count(p.entry, p.client, "finished");
      if (failed) {
        d.store.count(p.entry, p.client, "failed");
        if (outcome.failureClass)
          d.store.count(p.entry, p.client, `failed:${outcome.failureClass}`);
        d.store.recordError(
          p.entry,
          p.client,
          d.now(),
          `pilot ${p.id} failed (exit ${p.exitCode ?? "?"}${outcome.exitReason ? `, ${outcome.exitReason}` : ""})`,
        );
      }
      if (outcome.jobsRun > 0) d.store.count(p.entry, p.client, "jobs_run", outcome.jobsRun);
    });
    await guarded(d.logger, p.entry, async () => adapter.purge?.([p.handle!]));
    n++;
  }
  return n;
}

/**
 * Intents still unsettled long after their submit (the adapter failed without an answer) are
 * settled against the adapter's listing, as at a restart, so they neither block requests forever
 * nor get submitted twice.
 */
async function settleOldIntents(
  d: CycleDeps,
  entries: ReadonlyMap<string, EntryConfig>,
  now: number,
): Promise<void> {
  const stale = new Set<string>();
  for (const p of d.store.live()) {
    if (p.state !== "Unsubmitted") continue;
    const e = entries.get(p.entry);
    const maxAge = (e?.stale ?? d.config.defaults.stale).unsubmitted * 1000;
    if (now - p.createdAt > maxAge) stale.add(p.entry);
  }
  if (stale.size === 0) return;
  const adapters = new Map([...d.adapters].filter(([entry]) => stale.has(entry)));
  const sum = await guarded(d.logger, [...stale].join(","), () =>
    reconcile(d.store, adapters, d.now, d.logger),
  );
  if (sum) d.logger.warn({ entries: [...stale], ...sum }, "settled old unsubmitted intents");
}

/** Release recoverable holds with back-off, remove the rest and stale pilots. */
async function tidy(d: CycleDeps): Promise<{ released: number; removed: number }> {
  const now = d.now();
  const entries = new Map(d.config.entries.map((e) => [e.name, e]));
  await settleOldIntents(d, entries, now);
  const staleMs = new Map<string, { idle: number; running: number; held: number }>();
  const live = d.store.live();
  const res = sanitize(
    live,
    {
      maxReleases: d.config.loop.max_releases,
      releaseBackoffMs: d.config.loop.release_backoff_s * 1000,
      stale(entry) {
        let ages = staleMs.get(entry);
        if (!ages) {
          const s = entries.get(entry)?.stale ?? d.config.defaults.stale;
          ages = { idle: s.idle * 1000, running: s.running * 1000, held: s.held * 1000 };
          staleMs.set(entry, ages);
        }
        return ages;
      },
    },
    now,
  );
  const rows = { get: (id: number) => d.store.liveById(id) };
  const toRelease: Readonly<PilotRow>[] = [];
  for (const id of res.release) {
    const p = rows.get(id)!;
    const adapter = d.adapters.get(p.entry);
    if (!adapter?.release || !adapter.capabilities.release || !p.handle) {
      res.remove.push({ id, reason: "held and the adapter cannot release" });
    } else toRelease.push(p);
  }
  let released = 0;
  for (const [entry, pilots] of groupByEntry(toRelease)) {
    const adapter = d.adapters.get(entry)!;
    const ok = await guarded(d.logger, entry, async () => {
      await adapter.release!(pilots.map((p) => p.handle!));
      return true;
    });
    if (!ok) continue;
    d.store.transaction(() => {
      for (const p of pilots) d.store.recordRelease(p.id, now, now);
    });
    released += pilots.length;
  }
  const removals = res.remove.map((r) => ({ ...r, pilot: rows.get(r.id)! }));
  d.store.transaction(() => {
    for (const r of removals) {
      d.store.markRemoveRequested([r.id], r.reason);
      if (!r.pilot.handle || !d.adapters.has(r.pilot.entry)) {
        d.store.applyStates([{ id: r.id, state: "Removed" }], now);
      }
    }
  });
  for (const [entry, list] of groupByEntry(removals.map((r) => ({ ...r, entry: r.pilot.entry })))) {
    d.logger.info({ entry, pilots: list.map((r) => [r.id, r.reason]) }, "removing pilots");
    const adapter = d.adapters.get(entry);
    const handles = list.flatMap((r) => r.pilot.handle ?? []);
    if (adapter && handles.length > 0)
      await guarded(d.logger, entry, () => adapter.remove(handles));
  }
  return { released, removed: res.remove.length };
}

async function readRequests(d: CycleDeps): Promise<ParsedRequest[]> {
  let ads;
  try {
    ads = await d.collector.query({ type: "GlideClient" });
  } catch (err) {
    d.logger.error({ err }, "cannot read GlideClient ads; deciding on no requests");
    return [];
  }
  const out: ParsedRequest[] = [];
  for (const attrs of ads) {
    const r = readGlideClientAd(attrs, d.config.name);
    if (!r) continue;
    if (!r.ok) d.logger.warn({ ad: r.name, reason: r.reason }, "GlideClient ad skipped");
    else out.push(r.value);
  }
  return out;
}

function prepareSubmit(
  d: CycleDeps,
  adapter: GridAdapter,
  req: ParsedRequest,
  count: number,
): SubmitJob | undefined {
  const r = req.request;
  const entry = entryConfig(d, r.entry)!;
  if (!entry.pilot) {
    d.store.recordError(r.entry, r.client, d.now(), "the entry has no pilot command");
    return undefined;
  }
  if (!req.encryptedCredential) {
    d.store.recordError(r.entry, r.client, d.now(), "the request carries no credential");
    return undefined;
  }
  const cacheKey = `${r.client}\u0000${req.encryptedCredential}`;
  let cred = d.credentialCache?.get(cacheKey);
  try {
    // Only reached for requests that passed the identity check in decide().
    cred ??= storeClientCredential(
      d.credentialDir,
      r.client,
      req.encryptedCredential,
      d.keys.privatePem,
    );
    d.credentialCache?.set(cacheKey, cred);
  } catch (err) {
    d.store.recordError(
      r.entry,
      r.client,
      d.now(),
      `cannot decrypt the credential: ${(err as Error).message}`,
    );
    d.logger.warn({ entry: r.entry, client: r.client, err }, "credential not decrypted");
    return undefined;
  }
  const pilot = entry.pilot;
  const env: Record<string, string> = {
    GLIDEIN_Factory: d.config.name,
    GLIDEIN_Entry_Name: entry.name,
    GLIDEIN_Client: r.client,
    GLIDEIN_Frontend: r.frontend,
    ...req.params,
  };
  for (const [name, a] of Object.entries(entry.attrs)) if (a.to_pilot) env[name] = String(a.value);
  const extra = d.pilotArgs?.() ?? [];
  return {
    adapter,
    req: {
      intent: {
        entry: entry.name,
        client: r.client,
        frontend: r.frontend,
        securityClass: r.securityClass,
        credentialId: cred.id,
        gridtype: entry.gridtype,
      },
      count,
      clusterSize: (entry.submit ?? d.config.defaults.submit).cluster_size,
      spec: (intentId): PilotSpec => ({
        intentId,
        command: pilot.command,
        args: [...pilot.args, ...extra, "--pilot-id", `${d.config.name}-${intentId}`],
        env,
        credentialFile: cred.file,
        resources: { cpus: pilot.cpus, memoryMb: pilot.memory_mb, walltimeS: pilot.walltime_s },
      }),
    },
  };
}

/** Live pilots counted per entry and per (entry, client), in one pass. */
function countLive(rows: readonly Readonly<PilotRow>[]) {
  const byEntry = new Map<string, { total: ClientCounts; clients: Map<string, ClientCounts> }>();
  for (const p of rows) {
    let e = byEntry.get(p.entry);
    if (!e)
      byEntry.set(p.entry, (e = { total: { idle: 0, running: 0, held: 0 }, clients: new Map() }));
    let c = e.clients.get(p.client);
    if (!c) e.clients.set(p.client, (c = { idle: 0, running: 0, held: 0 }));
    const field = p.state === "Running" ? "running" : p.state === "Held" ? "held" : "idle";
    c[field]++;
    e.total[field]++;
  }
  return byEntry;
}

async function advertise(d: CycleDeps, decision: Decision): Promise<void> {
  const now = d.now();
  const live = d.store.live();
  const counts = countLive(live);
  const counters = new Map<string, number>();
  for (const c of d.store.counters())
    counters.set(`${c.entry}\u0000${c.client}\u0000${c.name}`, c.value);
  const lifetimeS = d.config.loop.advertise_lifetime_s;
  const factoryAds = d.config.entries
    .filter((e) => e.enabled)
    .map((e) =>
      buildGlideFactoryAd({
        factory: d.config.name,
        entry: e,
        inDowntime: inDowntime(d.store.downtimes(), e.name, now),
        pubKeyPem: d.keys.publicPem,
        pubKeyId: d.keys.id,
        totals: counts.get(e.name)?.total ?? { idle: 0, running: 0, held: 0 },
        lifetimeS,
      }).toJSON(),
    );
  const clientAds = decision.clients.map((c) => {
    const k = `${c.entry}\u0000${c.client}`;
    return buildGlideFactoryClientAd({
      factory: d.config.name,
      entry: c.entry,
      client: c.client,
      frontend: c.frontend,
      counts: counts.get(c.entry)?.clients.get(c.client) ?? { idle: 0, running: 0, held: 0 },
      reqIdle: c.reqIdle,
      reqMax: c.reqMax,
      limitsHit: c.limitsHit,
      failed: counters.get(`${k}\u0000failed`) ?? 0,
      finished: counters.get(`${k}\u0000finished`) ?? 0,
      lifetimeS,
    }).toJSON();
  });
  try {
    if (factoryAds.length > 0) await d.collector.advertise(factoryAds, "GlideFactory");
    if (clientAds.length > 0) await d.collector.advertise(clientAds, "GlideFactoryClient");
  } catch (err) {
    d.logger.error({ err }, "advertise failed");
  }
}
