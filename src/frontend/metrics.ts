/**
 * The frontend's Prometheus metrics: what the last cycle saw and asked for, per group and entry,
 * and the limits that bound each request; gauges read the last cycle's plans at scrape time, so
 * a scrape costs no recomputation. Entry names come from factories' ads and are bounded like any
 * label from outside (metric-labels.ts).
 */
import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import { BoundedSeries, labelValue } from "../wire/metric-labels.js";
import type { GroupPlan } from "./compute.js";
import type { RequestReason } from "./request-rules.js";

export type FrontendMetrics = {
  /** A cycle ended: its plans, the peers it could not reach, and how long it took. */
  cycleDone(plans: readonly GroupPlan[], unreachable: number, seconds: number): void;
  cycleFailed(seconds: number): void;
};

/** The limit a reason names, as the `limit` label: the configured limit's name, or the rule. */
export function limitLabel(r: RequestReason): string {
  switch (r.kind) {
    case "max-reached":
    case "headroom":
    case "curb":
      return `${r.limit}.${r.kind === "curb" ? "curb" : "max"}`;
    case "idle-max":
      return "idle_glideins_per_entry.max";
    case "max-running-cap":
      return "running_glideins_per_entry.max";
    default:
      return r.kind;
  }
}

export function registerFrontendMetrics(registry: Registry): FrontendMetrics {
  let plans: readonly GroupPlan[] = [];
  const perEntry = (
    name: string,
    help: string,
    pick: (e: GroupPlan["entries"][number]) => number,
  ) =>
    new Gauge({
      name,
      help,
      labelNames: ["group", "entry"],
      registers: [registry],
      collect() {
        this.reset();
        const s = new BoundedSeries();
        for (const g of plans)
          for (const e of g.entries) s.add({ group: g.group, entry: labelValue(e.entry) }, pick(e));
        s.each((labels, value) => this.set(labels, value));
      },
    });
  perEntry(
    "updraft_frontend_requested_idle_pilots",
    "Idle pilots the group asked of the entry in the last cycle (ReqIdleGlideins).",
    (e) => e.request.idle,
  );
  perEntry(
    "updraft_frontend_requested_max_pilots",
    "Pilots the group accepts at most at the entry (ReqMaxGlideins).",
    (e) => e.request.max,
  );
  perEntry(
    "updraft_frontend_matched_idle_jobs",
    "Idle jobs of the group that match the entry (glideinWMS's count).",
    (e) => e.jobs.count,
  );
  new Gauge({
    name: "updraft_frontend_pilots",
    help:
      "The group's pilots at each entry as the last cycle counted them: slots idle and running " +
      "(from Slot ads), and the factory's queued idle and held.",
    labelNames: ["group", "entry", "state"],
    registers: [registry],
    collect() {
      this.reset();
      const s = new BoundedSeries();
      for (const g of plans) {
        for (const e of g.entries) {
          const entry = labelValue(e.entry);
          s.add({ group: g.group, entry, state: "idle" }, e.pilots.idleSlots);
          s.add({ group: g.group, entry, state: "running" }, e.pilots.runningSlots);
          s.add({ group: g.group, entry, state: "queued" }, e.pilots.queuedIdle);
          s.add({ group: g.group, entry, state: "held" }, e.pilots.held);
        }
      }
      s.each((labels, value) => this.set(labels, value));
    },
  });
  new Gauge({
    name: "updraft_frontend_request_limited",
    help:
      "1 for each limit, curb or rule that shaped the group's request to an entry in the last " +
      "cycle (idle_glideins_per_entry.max, running_glideins_total.curb, ramp-up, downtime...).",
    labelNames: ["group", "entry", "limit"],
    registers: [registry],
    collect() {
      this.reset();
      const s = new BoundedSeries();
      for (const g of plans) {
        for (const e of g.entries) {
          for (const r of e.reasons)
            s.add({ group: g.group, entry: labelValue(e.entry), limit: limitLabel(r) });
        }
      }
      s.each((labels) => this.set(labels, 1));
    },
  });
  const perGroup = (name: string, help: string, pick: (g: GroupPlan) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ["group"],
      registers: [registry],
      collect() {
        this.reset();
        for (const g of plans) this.set({ group: g.group }, pick(g));
      },
    });
  perGroup(
    "updraft_frontend_idle_jobs",
    "Idle jobs of the group (after its job query) in the last cycle.",
    (g) => g.idleJobs,
  );
  perGroup(
    "updraft_frontend_unmatched_idle_jobs",
    "Idle jobs of the group that no entry matches.",
    (g) => g.unmatchedJobs,
  );
  const unreachablePeers = new Gauge({
    name: "updraft_frontend_unreachable_peers",
    help: "Peers (collector, schedds) the last cycle could not reach.",
    registers: [registry],
  });
  const cycles = new Counter({
    name: "updraft_frontend_cycles_total",
    help: "Frontend cycles, by outcome (ok, failed).",
    labelNames: ["outcome"],
    registers: [registry],
  });
  const duration = new Histogram({
    name: "updraft_frontend_cycle_duration_seconds",
    help: "Time a frontend cycle took: gather from the peers, plan, advertise.",
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
    registers: [registry],
  });
  return {
    cycleDone(p, unreachable, seconds) {
      plans = p;
      unreachablePeers.set(unreachable);
      cycles.inc({ outcome: "ok" });
      duration.observe(seconds);
    },
    cycleFailed(seconds) {
      cycles.inc({ outcome: "failed" });
      duration.observe(seconds);
    },
  };
}
