/**
 * The factory's Prometheus metrics. Every series is read at scrape time from counts the store
 * keeps up to date as it writes (live pilots per entry, client and state, held pilots per hold
 * reason, its counters and client statuses mirrored from SQLite), so a page costs its series,
 * not a walk of 100,000 pilots or a read of the tables. The counters are the store's own per
 * (entry, client) counters, so they survive a restart and agree with `updraft factory status`.
 * Cycle durations are observed by the daemon as cycles end.
 *
 * Label values come from what others wrote (client names in GlideClient ads, hold reasons from
 * CEs, failure classes from pilot reports), so each is bounded (see metric-labels.ts), hold
 * reasons are reduced to their shape, and only known failure classes are believed.
 */
import { Histogram, type Registry } from "prom-client";
import { FAILURE_CLASSES } from "../pilot/failure.js";
import { ComputedCounter, ComputedGauge, memoLabelValue } from "../wire/metric-labels.js";
import type { FactoryStore } from "./store.js";
import { ATTR_DROP_REASONS } from "../ads/glidein-attrs.js";
import { attrsDroppedCounter } from "./pilot-attrs.js";
import { PILOT_CORE_SECONDS } from "./pilot-core-time.js";

export type FactoryMetrics = {
  cycleDone(seconds: number, timings: Record<string, number>): void;
};

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

const KNOWN_CLASSES: ReadonlySet<string> = new Set(FAILURE_CLASSES);

export function registerFactoryMetrics(registry: Registry, store: FactoryStore): FactoryMetrics {
  const label = memoLabelValue();
  const registers = [registry];
  new ComputedGauge({
    name: "updraft_factory_pilots",
    help: "Live pilots by entry, client and state (Unsubmitted, Idle, Running, Held).",
    labelNames: ["entry", "client", "state"],
    registers,
    read(add) {
      for (const [entry, e] of store.liveCounts()) {
        for (const [c, n] of e.clients) {
          const unsubmitted = store.unsubmittedCount(entry, c);
          const e = label(entry);
          const cl = label(c);
          if (unsubmitted > 0) add(unsubmitted, e, cl, "Unsubmitted");
          if (n.idle > unsubmitted) add(n.idle - unsubmitted, e, cl, "Idle");
          if (n.running > 0) add(n.running, e, cl, "Running");
          if (n.held > 0) add(n.held, e, cl, "Held");
        }
      }
    },
  });
  new ComputedGauge({
    name: "updraft_factory_held_pilots",
    help: "Held pilots by entry, the shape of the hold reason, and whether it is recoverable.",
    labelNames: ["entry", "reason", "recoverable"],
    registers,
    max: 200,
    read(add) {
      for (const g of store.heldCounts())
        add(g.count, label(g.entry), g.reason, String(g.recoverable));
    },
  });
  for (const c of COUNTERS) {
    new ComputedCounter({
      name: c.name,
      help: c.help,
      labelNames: ["entry", "client"],
      registers,
      read(add) {
        for (const r of store.countersNamed(c.counter))
          add(r.value, label(r.entry), label(r.client));
      },
    });
  }
  new ComputedCounter({
    name: "updraft_factory_pilot_failures_total",
    help:
      "Finished pilots that failed, by entry, client and failure class (glideinWMS's classes; " +
      "Unknown when the pilot gave none).",
    labelNames: ["entry", "client", "class"],
    registers,
    read(add) {
      const classed = new Map<string, number>();
      const key = (e: string, c: string) => `${e}\u0000${c}`;
      for (const name of store.counterNames()) {
        if (!name.startsWith("failed:")) continue;
        const cls = name.slice("failed:".length);
        if (!KNOWN_CLASSES.has(cls)) continue;
        for (const r of store.countersNamed(name)) {
          add(r.value, label(r.entry), label(r.client), cls);
          classed.set(key(r.entry, r.client), (classed.get(key(r.entry, r.client)) ?? 0) + r.value);
        }
      }
      for (const r of store.countersNamed("failed")) {
        const rest = r.value - (classed.get(key(r.entry, r.client)) ?? 0);
        if (rest > 0) add(rest, label(r.entry), label(r.client), "Unknown");
      }
    },
  });
  new ComputedCounter({
    name: "updraft_factory_pilot_core_seconds_total",
    help:
      "Core-seconds of the entry's running pilots (running pilots seen by each poll, times " +
      "the entry's pilot cpus): goodput's denominator.",
    labelNames: ["entry"],
    registers,
    read(add) {
      for (const r of store.countersNamed(PILOT_CORE_SECONDS)) add(r.value, label(r.entry));
    },
  });
  new ComputedCounter({
    name: "updraft_factory_attrs_dropped_total",
    help:
      "Frontend attributes the factory dropped from requests it submitted pilots for, one per " +
      "attribute and submission, by entry, client and reason (reserved_name, bad_name, " +
      "bad_type, bad_value).",
    labelNames: ["entry", "client", "reason"],
    registers,
    read(add) {
      for (const reason of ATTR_DROP_REASONS) {
        for (const r of store.countersNamed(attrsDroppedCounter(reason)))
          add(r.value, label(r.entry), label(r.client), reason);
      }
    },
  });
  const requestGauge = (name: string, help: string, pick: "reqIdle" | "reqMax") =>
    new ComputedGauge({
      name,
      help,
      labelNames: ["entry", "client"],
      registers,
      read(add) {
        for (const r of store.clientStatusesUnordered())
          if (!r.refused) add(r[pick], label(r.entry), label(r.client));
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
  new ComputedGauge({
    name: "updraft_factory_request_limited",
    help:
      "1 for each limit that bound a client's submissions at an entry in the last cycle " +
      "(entry.max_idle, frontend.max_glideins, max_per_cycle, downtime...).",
    labelNames: ["entry", "client", "limit"],
    registers,
    read(add) {
      for (const r of store.clientStatusesUnordered()) {
        if (r.limitsHit === "") continue;
        for (const limit of new Set(r.limitsHit.split(",").filter((l) => l !== "")))
          add(1, label(r.entry), label(r.client), label(limit));
      }
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
