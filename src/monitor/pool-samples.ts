/**
 * One sampling pass of the pool's history from its live view. Levels (pilots, jobs, requests,
 * cores) are gauges; pilot failures are events: the increase of each entry's counters since the
 * previous pass, so a bucket holds the failures that happened in it. A counter that went down
 * (a factory whose database was replaced) restarts from its new value.
 */
import type { Sample } from "./history-archives.js";
import type { PoolView } from "./pool-view.js";

/** The history's series names, as the page and docs/monitoring.md spell them. */
export const SERIES = {
  pilots: "pilots",
  requestedIdle: "requested_idle",
  requestedMax: "requested_max",
  pilotFailures: "pilot_failures",
  jobs: "jobs",
  entryJobs: "entry_running_jobs",
  pilotCores: "pilot_cores",
  busyCores: "busy_cores",
} as const;

/** Last counter values seen, by `entry\0class`. */
export type CounterMemory = Map<string, number>;

export function poolSamples(view: PoolView, previous: CounterMemory): Sample[] {
  const out: Sample[] = [];
  const gauge = (name: string, labels: Record<string, string>, value: number) =>
    out.push({ name, labels, kind: "gauge", value });
  for (const e of view.entries) {
    for (const state of ["idle", "running", "held"] as const)
      gauge(SERIES.pilots, { entry: e.entry, state }, e[state]);
    gauge(SERIES.requestedIdle, { entry: e.entry }, e.requestedIdle);
    gauge(SERIES.requestedMax, { entry: e.entry }, e.requestedMax);
    for (const [cls, n] of Object.entries(e.failedByClass)) {
      const key = `${e.entry}\u0000${cls}`;
      const before = previous.get(key);
      previous.set(key, n);
      // The first pass only learns where the counters stand.
      if (before === undefined) continue;
      const delta = n >= before ? n - before : n;
      out.push({
        name: SERIES.pilotFailures,
        labels: { entry: e.entry, class: cls },
        kind: "events",
        value: delta,
      });
    }
  }
  const perSchedd = new Map<string, { idle: number; running: number; held: number }>();
  for (const j of view.jobs) {
    const s = perSchedd.get(j.schedd) ?? { idle: 0, running: 0, held: 0 };
    s.idle += j.idle;
    s.running += j.running;
    s.held += j.held;
    perSchedd.set(j.schedd, s);
  }
  for (const [schedd, s] of perSchedd)
    for (const state of ["idle", "running", "held"] as const)
      gauge(SERIES.jobs, { schedd, state }, s[state]);
  for (const c of view.cores) {
    gauge(SERIES.entryJobs, { entry: c.entry }, c.jobs);
    gauge(SERIES.pilotCores, { entry: c.entry }, c.cores);
    gauge(SERIES.busyCores, { entry: c.entry }, c.busyCores);
  }
  return out;
}
