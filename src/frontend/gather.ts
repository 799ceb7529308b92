/**
 * The frontend's one IO step before deciding: ask the live daemons for what a snapshot holds
 * (idle jobs per schedd, GlideFactory entries, the groups' pilots and the factories' monitoring)
 * and put it in the snapshot format `updraft frontend plan` reads. Every call has a deadline, so a
 * peer that does not answer costs one timeout per cycle, never a stalled loop.
 */
import { AD_TYPE, SLOT, GLIDE_FACTORY_CLIENT } from "../ads/index.js";
import { ClassAd, tryParse } from "../classad/index.js";
import type { CollectorClient } from "../collector/client.js";
import type { Logger } from "../common/logger.js";
import type { ScheddClient } from "../schedd/client.js";
import { clientName } from "./ads.js";
import { factoryCollectorUrls, poolCollectorUrls, type FrontendConfig } from "./config.js";
import { groupPolicies } from "./group-policy.js";
import { createFactoryPinFilter, type FactoryPinFilter } from "./factory-pins.js";
import {
  createSlotWriterFilter,
  ownPilotIdentities,
  ownPilotIssuers,
  type SlotWriterFilter,
} from "./slot-writers.js";
import { factoryClientFromAd, slotRecordFromAd } from "./snapshot-ads.js";
import type { AutoclusterSummary, Snapshot } from "./snapshot.js";

export interface ScheddPeer {
  url: string;
  client: ScheddClient;
}

export interface Peers {
  /** Where the factories are: GlideFactory and GlideFactoryClient ads, our GlideClient ads. */
  collector: CollectorClient;
  /** The user pool, where the pilots' Slot ads are; `collector` when absent (one pool). */
  poolCollector?: CollectorClient;
  /** In the configured order; `url` names the schedd in the snapshot and in logs. */
  schedds: ScheddPeer[];
  /** Schedds found each cycle through their Scheduler ads, instead of `schedds`. */
  findSchedds?: () => Promise<ScheddPeer[]>;
  /** Deadline on each call, in milliseconds. */
  timeoutMs: number;
  /** Drops GlideFactory ads not written by their factory's pinned identity; default: a new one. */
  factoryPins?: FactoryPinFilter;
  /** Drops Slot ads not written by the frontend's own pilots; default: a new one. */
  slotWriters?: SlotWriterFilter;
}

export interface GatherResult {
  snapshot: Snapshot;
  /** Peers that did not answer this cycle (their part of the snapshot is missing). */
  unreachable: string[];
  /** The Slot ads written by this frontend's own pilots, as received (for token renewal). */
  ownSlotAds: Record<string, string>[];
}

function quote(s: string): string {
  return JSON.stringify(s);
}

/** The global job query and-ed with every enabled group's, or-ed: what any group could serve. */
function jobConstraint(config: FrontendConfig): string {
  const groups = config.groups.filter((g) => g.enabled).map((g) => `(${g.job_query_expr})`);
  if (groups.length === 0) return "false";
  return `(${config.match.job_query_expr}) && (${groups.join(" || ")})`;
}

/**
 * One IdleSummary per schedd, not one per group: the snapshot's autoclusters are shared by all
 * groups and planCycle applies each group's job query itself, so per-group summaries would list
 * a job wanted by two groups twice and count it twice. The match attributes are the union of
 * the groups' job attributes, so jobs that differ in any of them stay apart.
 */
async function idleJobs(
  config: FrontendConfig,
  peers: Peers,
  schedds: readonly ScheddPeer[],
  log: Logger,
  unreachable: string[],
): Promise<AutoclusterSummary[]> {
  const attrs = new Set<string>();
  for (const p of groupPolicies(config)) for (const a of p.matchAttrs.job) attrs.add(a);
  const constraint = jobConstraint(config);
  const matchAttributes = [...attrs].sort();
  const perSchedd = await Promise.all(
    schedds.map(async ({ url, client }) => {
      try {
        const summary = await client.idleSummary(constraint, matchAttributes, {
          deadlineMs: peers.timeoutMs,
        });
        return (summary.groups ?? []).map((g, i): AutoclusterSummary => ({
          id: String(i),
          schedd: url,
          count: g.count,
          owners: { ...(g.owners ?? {}) },
          job: { ...g.representative.attrs },
        }));
      } catch (err) {
        // This schedd's idle jobs are left out of this cycle: requests computed without them are
        // smaller for one cycle, which is better than every group waiting on one dead schedd.
        log.warn({ err, schedd: url }, "schedd did not answer; its jobs are left out this cycle");
        unreachable.push(url);
        return [];
      }
    }),
  );
  return perSchedd.flat();
}

/** A pin filter logging refused GlideFactory ads at warn, once per writer per ten minutes. */
export function factoryPinFilter(config: FrontendConfig, log: Logger): FactoryPinFilter {
  return createFactoryPinFilter({
    pins: config.factories,
    onRefused: (v, count) =>
      log.warn(
        { reason: v.reason, factory: v.factory, identity: v.identity, count },
        "GlideFactory ad ignored: its writer is not the identity pinned for that factory",
      ),
  });
}

/**
 * The entries: GlideFactory ads passing the global factory query (groups narrow it later), and
 * only those written by the identity pinned for their factory: the credential is encrypted to
 * the key in these ads.
 */
async function factoryAds(
  config: FrontendConfig,
  peers: Peers,
  log: Logger,
): Promise<Record<string, string>[]> {
  const ads = await peers.collector.query(
    { type: AD_TYPE.GlideFactory, constraint: config.match.factory_query_expr },
    { deadlineMs: peers.timeoutMs },
  );
  return (peers.factoryPins ?? factoryPinFilter(config, log)).filter(ads);
}

function parseAd(attrs: Record<string, string>): ClassAd | null {
  const r = tryParse(() => ClassAd.fromJSON(attrs));
  return r.ok ? r.value : null;
}

/**
 * The schedds of this cycle: the configured ones, or those found through their Scheduler ads.
 * When the collector does not answer none are found, and the pool collector is unreachable: the
 * daemon then advertises nothing rather than withdraw every request for want of jobs.
 */
async function scheddPeers(
  peers: Peers,
  poolLabel: string,
  log: Logger,
  unreachable: string[],
): Promise<ScheddPeer[]> {
  if (!peers.findSchedds) return peers.schedds;
  try {
    return await peers.findSchedds();
  } catch (err) {
    log.warn({ err, collector: poolLabel }, "collector did not answer; no schedds this cycle");
    if (!unreachable.includes(poolLabel)) unreachable.push(poolLabel);
    return [];
  }
}

/** How the factory and pool collectors appear in `unreachable` (the same when they are one). */
export function collectorLabels(config: FrontendConfig): { factory: string; pool: string } {
  return {
    factory: factoryCollectorUrls(config).join(","),
    pool: poolCollectorUrls(config).join(","),
  };
}

/**
 * Gather one snapshot. A collector that does not answer leaves no entries, so the cycle after
 * it computes nothing to advertise; the caller sees it in `unreachable`.
 */
export async function gatherSnapshot(
  config: FrontendConfig,
  peers: Peers,
  log: Logger,
  nowS: number,
): Promise<GatherResult> {
  const unreachable: string[] = [];
  const clients = config.groups
    .filter((g) => g.enabled)
    .map((g) => clientName(config.name, g.name));
  const mine = clients.map(quote).join(", ");
  const opts = { deadlineMs: peers.timeoutMs };
  const labels = collectorLabels(config);
  const missed = (label: string, what: string) => (err: unknown) => {
    log.warn({ err, collector: label }, `collector did not answer; no ${what} this cycle`);
    if (!unreachable.includes(label)) unreachable.push(label);
    return [] as Record<string, string>[];
  };
  const fromCollector = Promise.all([
    factoryAds(config, peers, log).catch(missed(labels.factory, "entries")),
    (peers.poolCollector ?? peers.collector)
      .query({ type: AD_TYPE.Slot, constraint: `member(${SLOT.ClientName}, { ${mine} })` }, opts)
      .catch(missed(labels.pool, "pilots")),
    peers.collector
      .query(
        {
          type: AD_TYPE.GlideFactoryClient,
          constraint: `member(${GLIDE_FACTORY_CLIENT.ReqClientName}, { ${mine} })`,
        },
        opts,
      )
      .catch(missed(labels.factory, "factory monitoring")),
  ]);
  const schedds = await scheddPeers(peers, labels.pool, log, unreachable);
  const [autoclusters, [entries, slotAds, clientAds]] = await Promise.all([
    idleJobs(config, peers, schedds, log, unreachable),
    fromCollector,
  ]);
  const slots = [];
  const writers = peers.slotWriters ?? createSlotWriterFilter(log);
  const ownSlotAds = writers.filter(
    slotAds ?? [],
    ownPilotIdentities(config),
    ownPilotIssuers(config),
  );
  for (const attrs of ownSlotAds) {
    const ad = parseAd(attrs);
    const rec = ad && slotRecordFromAd(ad, nowS);
    if (rec) slots.push(rec);
  }
  const factoryClients = [];
  for (const attrs of clientAds ?? []) {
    const ad = parseAd(attrs);
    const rec = ad && factoryClientFromAd(ad);
    if (rec) factoryClients.push(rec);
  }
  return {
    snapshot: {
      taken_at: nowS,
      autoclusters,
      factory_ads: entries ?? [],
      slots,
      slot_counts: [],
      factory_clients: factoryClients,
      schedds: schedds.map((p) => p.url),
    },
    unreachable,
    ownSlotAds,
  };
}
