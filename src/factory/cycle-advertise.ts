/** The ads a cycle ends with: GlideFactory per enabled entry, GlideFactoryClient per client. */
import { AD_TYPE } from "../ads/index.js";
import { formatClassCounts } from "../ads/glide-factory-client.js";
import { FAILURE_CLASSES } from "../pilot/failure.js";
import { buildGlideFactoryAd, buildGlideFactoryClientAd } from "./ads.js";
import type { CycleDeps } from "./cycle-deps.js";
import type { ClientCounts, Decision } from "./decide-types.js";
import { inDowntime } from "./downtime.js";
import type { PilotRow } from "./store.js";

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

/** `Class:count,...` for one (entry, client); failures without a known class count as Unknown. */
function failuresByClass(counters: ReadonlyMap<string, number>, key: string): string {
  const byClass: Record<string, number> = {};
  let classed = 0;
  for (const cls of FAILURE_CLASSES) {
    const n = counters.get(`${key}\u0000failed:${cls}`) ?? 0;
    if (n > 0) byClass[cls] = n;
    classed += n;
  }
  const rest = (counters.get(`${key}\u0000failed`) ?? 0) - classed;
  if (rest > 0) byClass.Unknown = (byClass.Unknown ?? 0) + rest;
  return formatClassCounts(byClass);
}

export async function advertise(d: CycleDeps, decision: Decision): Promise<void> {
  const now = d.now();
  const live = d.store.live();
  const counts = countLive(live);
  const counters = new Map<string, number>();
  for (const c of d.store.counters())
    counters.set(`${c.entry}\u0000${c.client}\u0000${c.name}`, c.value);
  const lastErrors = new Map<string, string>();
  for (const e of d.store.lastErrors()) lastErrors.set(`${e.entry}\u0000${e.client}`, e.message);
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
        submitBackoff: d.backoff?.get(e.name),
        validationBackoff: d.validationBackoff?.get(e.name),
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
      failedByClass: failuresByClass(counters, k),
      lastFailure: lastErrors.get(k) ?? "",
      lifetimeS,
    }).toJSON();
  });
  try {
    if (factoryAds.length > 0) await d.collector.advertise(factoryAds, AD_TYPE.GlideFactory);
    if (clientAds.length > 0) await d.collector.advertise(clientAds, AD_TYPE.GlideFactoryClient);
  } catch (err) {
    d.logger.error({ err }, "advertise failed");
  }
}
