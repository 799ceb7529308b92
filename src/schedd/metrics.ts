/**
 * The schedd's Prometheus metrics. Job gauges are read at scrape time from the counts the queue
 * index keeps as jobs change state (per owner, running per entry), never from a scan of the jobs.
 */
import { Counter, Gauge, type Registry } from "prom-client";
import { registerConnectionsGauge } from "../wire/wire-metrics.js";
import type { JobQueue } from "./queue.js";

export type ScheddMetricsSources = {
  connections: () => number;
};

export type ScheddMetrics = {
  /** Leases that lapsed (the pilot stopped renewing): jobs put back to idle. */
  leasesExpired(n: number): void;
};

export function registerScheddMetrics(
  registry: Registry,
  queue: JobQueue,
  sources: ScheddMetricsSources,
): ScheddMetrics {
  new Gauge({
    name: "updraft_schedd_jobs",
    help: "Jobs in the queue, by owner and state (idle, running, held).",
    labelNames: ["owner", "state"],
    registers: [registry],
    collect() {
      this.reset();
      for (const [owner, c] of queue.index.owners) {
        this.set({ owner, state: "idle" }, c.idle);
        this.set({ owner, state: "running" }, c.running);
        this.set({ owner, state: "held" }, c.held);
      }
    },
  });
  new Gauge({
    name: "updraft_schedd_running_jobs_by_entry",
    help: "Running jobs by the factory entry of the pilot that claimed them.",
    labelNames: ["entry"],
    registers: [registry],
    collect() {
      this.reset();
      for (const [entry, n] of queue.index.runningByEntry) this.set({ entry }, n);
    },
  });
  registerConnectionsGauge(registry, sources.connections);
  // Read at scrape time from the queue's own tallies (since this schedd started).
  new Counter({
    name: "updraft_schedd_claims_total",
    help: "Jobs claimed by pilots.",
    registers: [registry],
    collect() {
      this.reset();
      this.inc(queue.events.claims);
    },
  });
  new Counter({
    name: "updraft_schedd_completions_total",
    help: "Jobs that completed and left the queue.",
    registers: [registry],
    collect() {
      this.reset();
      this.inc(queue.events.completions);
    },
  });
  new Counter({
    name: "updraft_schedd_holds_total",
    help: "Jobs put on hold, by HoldReasonCode (HTCondor's numbers: 1 user, 3 periodic hold, 12 output transfer, 13 input transfer...).",
    labelNames: ["code"],
    registers: [registry],
    collect() {
      this.reset();
      // A periodic_hold_reason_code is the user's to choose: outside HTCondor's range, one label.
      for (const [code, n] of queue.events.holdsByCode)
        this.inc(
          { code: Number.isInteger(code) && code >= 0 && code < 1000 ? String(code) : "other" },
          n,
        );
    },
  });
  new Counter({
    name: "updraft_schedd_job_cpu_seconds_total",
    help:
      "CPU seconds (user and system) of finished job runs, by the factory entry of the pilot " +
      "that ran them: goodput's numerator.",
    labelNames: ["entry", "factory"],
    registers: [registry],
    collect() {
      this.reset();
      for (const e of queue.events.cpuByEntry.entries)
        this.inc({ entry: e.entry, factory: e.factory ?? "" }, e.cpuSeconds);
    },
  });
  const expired = new Counter({
    name: "updraft_schedd_lease_expiries_total",
    help: "Claims whose lease lapsed; their jobs went back to idle.",
    registers: [registry],
  });
  return {
    leasesExpired: (n) => expired.inc(n),
  };
}
