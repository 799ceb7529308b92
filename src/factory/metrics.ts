/**
 * The factory's Prometheus metrics. Pilot gauges are read at scrape time from the live pilots the
 * store keeps in memory; the counters are the store's own per (entry, client) counters in SQLite,
 * so they survive a restart and agree with `updraft factory status`. Cycle durations are observed
 * by the daemon as cycles end.
 *
 * Label values come from what others wrote (client names in GlideClient ads, hold reasons from
 * CEs, failure classes from pilot reports), so each is bounded (see metric-labels.ts), hold
 * reasons are reduced to their shape, and only known failure classes are believed.
 */
import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import { FAILURE_CLASSES } from "../pilot/failure.js";
import { BoundedSeries, labelValue } from "../wire/metric-labels.js";
import type { FactoryStore, PilotRow } from "./store.js";

export type FactoryMetrics = {
  cycleDone(seconds: number, timings: Record<string, number>): void;
};

/**
 * A hold reason without what varies per pilot: numbers become N, quoted or bracketed details
 * and anything after a colon are dropped ("Slurm job 123 is held (JobHeldAdmin)" and the same
 * for job 456 are one series).
 */
export function holdReasonShape(reason: string | null): string {
  if (!reason) return "unknown";
  const s = reason
    .split(":")[0]!
    .replace(/\([^)]*\)|"[^"]*"|'[^']*'/g, "")
    .replace(/\d+/g, "N")
    .replace(/\s+/g, " ")
    .trim();
  return labelValue(s.slice(0, 80)) || "unknown";
}

const COUNTERS: readonly { counter: string; name: string; help: string }[] = [
  {
    counter: "submitted",
    name: "updraft_factory_pilot_submissions_total",
    help: "Pilots submitted to the entry's CE, by entry and client.",
  },
  {
    counter: "submit_failed",
    name: "updraft_factory_submit_failures_total",
    help: "Pilots whose submission the CE refused or that failed to submit, by entry and client.",
  },
  {
    counter: "finished",
    name: "updraft_factory_pilots_finished_total",
    help: "Pilots that ended and whose output was read, by entry and client.",
  },
  {
    counter: "jobs_run",
    name: "updraft_factory_pilot_jobs_total",
    help: "Jobs that finished pilots report having run, by entry and client.",
  },
  {
    counter: "refused",
    name: "updraft_factory_requests_refused_total",
    help: "GlideClient requests refused (unknown entry or class, identity mismatch), per cycle.",
  },
];

/**
 * A store read shared by every metric of one scrape: prom-client runs the collect() of each
 * metric of a page in one synchronous pass, so a value kept until the next microtask is read
 * once per page, and the next page reads afresh.
 */
function perScrape<T>(read: () => T): () => T {
  let cached: { value: T } | undefined;
  return () => {
    if (!cached) {
      cached = { value: read() };
      queueMicrotask(() => (cached = undefined));
    }
    return cached.value;
  };
}

export function registerFactoryMetrics(registry: Registry, store: FactoryStore): FactoryMetrics {
  const live = perScrape(() => store.live());
  const counters = perScrape(() => store.counters());
  const clientStatuses = perScrape(() => store.clientStatuses());
  new Gauge({
    name: "updraft_factory_pilots",
    help: "Live pilots by entry, client and state (Unsubmitted, Idle, Running, Held).",
    labelNames: ["entry", "client", "state"],
    registers: [registry],
    collect() {
      this.reset();
      // Counted by a plain key first: labels are cleaned and serialised once per group, not
      // once per pilot (100,000 pilots are a few thousand groups).
      const groups = new Map<string, { p: Readonly<PilotRow>; n: number }>();
      for (const p of live()) {
        const key = `${p.entry}\u0000${p.client}\u0000${p.state}`;
        const g = groups.get(key);
        if (g) g.n++;
        else groups.set(key, { p, n: 1 });
      }
      const s = new BoundedSeries();
      for (const { p, n } of groups.values())
        s.add({ entry: p.entry, client: labelValue(p.client), state: p.state }, n);
      s.each((labels, value) => this.set(labels, value));
    },
  });
  new Gauge({
    name: "updraft_factory_held_pilots",
    help: "Held pilots by entry, the shape of the hold reason, and whether it is recoverable.",
    labelNames: ["entry", "reason", "recoverable"],
    registers: [registry],
    collect() {
      this.reset();
      const s = new BoundedSeries(200);
      for (const p of live()) {
        if (p.state !== "Held") continue;
        s.add({
          entry: p.entry,
          reason: holdReasonShape(p.holdReason),
          recoverable: String(p.holdRecoverable),
        });
      }
      s.each((labels, value) => this.set(labels, value));
    },
  });
  for (const c of COUNTERS) {
    new Counter({
      name: c.name,
      help: c.help,
      labelNames: ["entry", "client"],
      registers: [registry],
      collect() {
        this.reset();
        const s = new BoundedSeries();
        for (const r of counters())
          if (r.name === c.counter)
            s.add({ entry: r.entry, client: labelValue(r.client) }, r.value);
        s.each((labels, value) => this.inc(labels, value));
      },
    });
  }
  new Counter({
    name: "updraft_factory_pilot_failures_total",
    help:
      "Finished pilots that failed, by entry, client and failure class (glideinWMS's classes; " +
      "Unknown when the pilot gave none).",
    labelNames: ["entry", "client", "class"],
    registers: [registry],
    collect() {
      this.reset();
      const s = new BoundedSeries();
      const classed = new Map<string, number>();
      const key = (e: string, c: string) => `${e}\u0000${c}`;
      for (const r of counters()) {
        if (!r.name.startsWith("failed:")) continue;
        const cls = r.name.slice("failed:".length);
        if (!(FAILURE_CLASSES as readonly string[]).includes(cls)) continue;
        s.add({ entry: r.entry, client: labelValue(r.client), class: cls }, r.value);
        classed.set(key(r.entry, r.client), (classed.get(key(r.entry, r.client)) ?? 0) + r.value);
      }
      for (const r of counters()) {
        if (r.name !== "failed") continue;
        const rest = r.value - (classed.get(key(r.entry, r.client)) ?? 0);
        if (rest > 0)
          s.add({ entry: r.entry, client: labelValue(r.client), class: "Unknown" }, rest);
      }
      s.each((labels, value) => this.inc(labels, value));
    },
  });
  const requestGauge = (name: string, help: string, pick: "reqIdle" | "reqMax") =>
    new Gauge({
      name,
      help,
      labelNames: ["entry", "client"],
      registers: [registry],
      collect() {
        this.reset();
        const s = new BoundedSeries();
        for (const r of clientStatuses())
          if (!r.refused) s.add({ entry: r.entry, client: labelValue(r.client) }, r[pick]);
        s.each((labels, value) => this.set(labels, value));
      },
    });
  requestGauge(
    "updraft_factory_requested_idle_pilots",
    "Idle pilots each client asked for at each entry in the last cycle (ReqIdleGlideins).",
    "reqIdle",
  );
  requestGauge(
    "updraft_factory_requested_max_pilots",
    "Pilots each client accepts at most at each entry in the last cycle (ReqMaxGlideins).",
    "reqMax",
  );
  new Gauge({
    name: "updraft_factory_request_limited",
    help:
      "1 for each limit that bound a client's submissions at an entry in the last cycle " +
      "(entry.max_idle, frontend.max_glideins, max_per_cycle, downtime...).",
    labelNames: ["entry", "client", "limit"],
    registers: [registry],
    collect() {
      this.reset();
      const s = new BoundedSeries();
      for (const r of clientStatuses()) {
        for (const limit of r.limitsHit.split(",").filter((l) => l !== "")) {
          s.add({ entry: r.entry, client: labelValue(r.client), limit: labelValue(limit) });
        }
      }
      s.each((labels) => this.set(labels, 1));
    },
  });
  const cycle = new Histogram({
    name: "updraft_factory_cycle_duration_seconds",
    help: "Time a whole factory cycle took (poll, outputs, tidy, requests, submit, advertise).",
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
    registers: [registry],
  });
  const steps = new Histogram({
    name: "updraft_factory_cycle_step_duration_seconds",
    help: "Time each step of a factory cycle took, by step.",
    labelNames: ["step"],
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [registry],
  });
  return {
    cycleDone(seconds, timings) {
      cycle.observe(seconds);
      for (const [step, ms] of Object.entries(timings)) steps.observe({ step }, ms / 1000);
    },
  };
}
