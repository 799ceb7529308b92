/**
 * The collector's Prometheus metrics. Gauges are read at scrape time from counts the store
 * already keeps (ads per type is one Map size per type), never from a scan of the ads, so a
 * scrape stays cheap with 100,000 ads; counters follow the store's events.
 */
import { Counter, Gauge, type Registry } from "prom-client";
import { registerConnectionsGauge } from "../wire/wire-metrics.js";
import { AD_TYPE } from "../ads/names.js";
import type { CollectorCore } from "./collector.js";
import type { QueryResult } from "./service.js";

export type CollectorMetricsSources = {
  watchers: () => number;
  connections: () => number;
};

export type CollectorMetrics = {
  /** A query ended: the ad type it asked for ("" for any) and how. */
  queryDone(type: string, result: QueryResult): void;
};

const KNOWN_TYPES: ReadonlySet<string> = new Set(Object.values(AD_TYPE));

/**
 * The type label of a query: the type asked for when it is one the pool knows, `any` when none
 * was, `other` for the rest, since a reader may ask for any string.
 */
export function queryTypeLabel(type: string): string {
  return type === "" ? "any" : KNOWN_TYPES.has(type) ? type : "other";
}

export function registerCollectorMetrics(
  registry: Registry,
  core: CollectorCore,
  sources: CollectorMetricsSources,
): CollectorMetrics {
  new Gauge({
    name: "updraft_collector_ads",
    help: "Ads held by the collector, by ad type.",
    labelNames: ["type"],
    registers: [registry],
    collect() {
      this.reset();
      for (const [type, n] of core.store.countsByType()) this.set({ type }, n);
    },
  });
  new Gauge({
    name: "updraft_collector_watchers",
    help: "Watch streams open on the collector.",
    registers: [registry],
    collect() {
      this.set(sources.watchers());
    },
  });
  registerConnectionsGauge(registry, sources.connections);
  const updates = new Counter({
    name: "updraft_collector_updates_total",
    help: "Ads stored (new or replacing an older one), by ad type.",
    labelNames: ["type"],
    registers: [registry],
  });
  const removals = new Counter({
    name: "updraft_collector_removals_total",
    help: "Ads removed from the collector, by ad type and why (invalidated, expired).",
    labelNames: ["type", "reason"],
    registers: [registry],
  });
  // Label children are looked up once per type, not per event.
  const updateChild = new Map<string, { inc(): void }>();
  core.store.subscribe((e) => {
    const type = e.ad.type;
    if (e.kind === "upserted") {
      let c = updateChild.get(type);
      if (!c) {
        c = updates.labels({ type });
        updateChild.set(type, c);
      }
      c.inc();
    } else {
      removals.inc({ type, reason: e.kind });
    }
  });
  const queries = new Counter({
    name: "updraft_collector_queries_total",
    help:
      "Queries answered or refused, by the ad type asked for (any, a known type, other) and " +
      "result (ok, invalid, exhausted, failed).",
    labelNames: ["type", "result"],
    registers: [registry],
  });
  return {
    queryDone(type, result) {
      queries.inc({ type: queryTypeLabel(type), result });
    },
  };
}
