/** The ads a cycle ends with: GlideFactory per enabled entry, GlideFactoryClient per client. */
import { AD_TYPE } from "../ads/index.js";
import { formatClassCounts } from "../ads/glide-factory-client.js";
import { FAILURE_CLASSES } from "../pilot/failure.js";
import { buildGlideFactoryAd, buildGlideFactoryClientAd } from "./ads.js";
import type { CycleDeps } from "./cycle-deps.js";
import type { Decision } from "./decide-types.js";
import { inDowntime } from "./downtime.js";
import { PILOT_CORE_SECONDS } from "./pilot-core-time.js";

/** Counter values by entry, client and counter name. */
type Counters = Map<string, Map<string, Map<string, number>>>;

/** The counter names of failures by class, built once. */
const FAILED_BY_CLASS = FAILURE_CLASSES.map((cls) => [cls, `failed:${cls}`] as const);

/** Every counter an ad shows. */
const ADVERTISED_COUNTERS = [
  "failed",
  "finished",
  PILOT_CORE_SECONDS,
  ...FAILED_BY_CLASS.map(([, name]) => name),
];

/**
 * The counters the ads show, keyed in steps, not by `entry + client + name` strings that each
 * lookup would build anew. Only those names are read: the others (one `submitted` row per entry
 * and client, among them) would be thousands of rows each cycle for nothing.
 */
function countersByClient(store: CycleDeps["store"]): Counters {
  const out: Counters = new Map();
  for (const name of ADVERTISED_COUNTERS) {
    for (const r of store.countersNamed(name)) {
      let clients = out.get(r.entry);
      if (clients === undefined) out.set(r.entry, (clients = new Map()));
      let names = clients.get(r.client);
      if (names === undefined) clients.set(r.client, (names = new Map()));
      names.set(r.name, r.value);
    }
  }
  return out;
}

const NO_COUNTERS: ReadonlyMap<string, number> = new Map();

/** `Class:count,...` for one (entry, client); failures without a known class count as Unknown. */
function failuresByClass(counters: ReadonlyMap<string, number>): string {
  if (counters.size === 0) return "";
  const byClass: Record<string, number> = {};
  let classed = 0;
  for (const [cls, name] of FAILED_BY_CLASS) {
    const n = counters.get(name) ?? 0;
    if (n > 0) byClass[cls] = n;
    classed += n;
  }
  const rest = (counters.get("failed") ?? 0) - classed;
  if (rest > 0) byClass.Unknown = (byClass.Unknown ?? 0) + rest;
  return formatClassCounts(byClass);
}

export async function advertise(d: CycleDeps, decision: Decision): Promise<void> {
  const now = d.now();
  const counts = d.store.liveCounts();
  const counters = countersByClient(d.store);
  const lastErrors = new Map<string, Map<string, string>>();
  for (const e of d.store.lastErrors()) {
    let clients = lastErrors.get(e.entry);
    if (clients === undefined) lastErrors.set(e.entry, (clients = new Map()));
    clients.set(e.client, e.message);
  }
  const lifetimeS = d.config.loop.advertise_lifetime_s;
  const downtimes = d.store.downtimes();
  const factoryAds = d.config.entries
    .filter((e) => e.enabled)
    .map((e) =>
      buildGlideFactoryAd({
        factory: d.config.name,
        entry: e,
        inDowntime: inDowntime(downtimes, e.name, now),
        pubKeyPem: d.keys.publicPem,
        pubKeyId: d.keys.id,
        totals: counts.get(e.name)?.total ?? { idle: 0, running: 0, held: 0 },
        submitBackoff: d.backoff?.get(e.name),
        validationBackoff: d.validationBackoff?.get(e.name),
        pilotCoreSeconds: counters.get(e.name)?.get("")?.get(PILOT_CORE_SECONDS) ?? 0,
        recentFailures: d.recentFailures?.of(e.name),
        lifetimeS,
      }).toJSON(),
    );
  const clientAds = decision.clients.map((c) => {
    const own = counters.get(c.entry)?.get(c.client) ?? NO_COUNTERS;
    return buildGlideFactoryClientAd({
      factory: d.config.name,
      entry: c.entry,
      client: c.client,
      frontend: c.frontend,
      counts: counts.get(c.entry)?.clients.get(c.client) ?? { idle: 0, running: 0, held: 0 },
      reqIdle: c.reqIdle,
      reqMax: c.reqMax,
      limitsHit: c.limitsHit,
      failed: own.get("failed") ?? 0,
      finished: own.get("finished") ?? 0,
      failedByClass: failuresByClass(own),
      lastFailure: lastErrors.get(c.entry)?.get(c.client) ?? "",
      lifetimeS,
    });
  });
  try {
    if (factoryAds.length > 0) await d.collector.advertise(factoryAds, AD_TYPE.GlideFactory);
    if (clientAds.length > 0) await d.collector.advertise(clientAds, AD_TYPE.GlideFactoryClient);
  } catch (err) {
    d.logger.error({ err }, "advertise failed");
  }
}
