/**
 * One sampling pass of the pool's history from its live view. Levels (pilots, jobs, requests,
 * cores) are gauges; pilot failures are events: the increase of each entry's counters since the
 * previous pass, so a bucket holds the failures that happened in it; so are goodput's job CPU
 * seconds (each schedd's, per entry) and pilot core-seconds (each factory entry's). A counter
 * that went down (a factory whose database was replaced, a schedd restarted) restarts from its
 * new value.
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
  jobCpu: "job_cpu_s",
  pilotCoreTime: "pilot_core_s",
} as const;

/** Last counter values seen, by `entry\0class`, `cpu\0schedd\0factory\0entry` and `core\0entry`. */
export type CounterMemory = Map<string, number>;

/** A counter's increase since the previous pass; undefined on the first (it only learns). */
function increase(previous: CounterMemory, key: string, n: number): number | undefined {
  const before = previous.get(key);
  previous.set(key, n);
  if (before === undefined) return undefined;
  return n >= before ? n - before : n;
}

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
      const delta = increase(previous, `${e.entry}\u0000${cls}`, n);
      if (delta === undefined) continue;
      out.push({
        name: SERIES.pilotFailures,
        labels: { entry: e.entry, class: cls },
        kind: "events",
        value: delta,
      });
    }
  }
  // Goodput's two counters, summed per entry as the page names it (`entry@factory`): schedds
  // name the pilot's entry and factory. Pilots that named no factory count for the one entry of
  // their name if there is one, else under the bare name.
  const cpu = new Map<string, number>();
  const add = (m: Map<string, number>, k: string, v: number | undefined) => {
    if (v !== undefined) m.set(k, (m.get(k) ?? 0) + v);
  };
  const byName = new Map<string, string | null>();
  for (const e of view.entries) byName.set(e.entryName, byName.has(e.entryName) ? null : e.entry);
  for (const j of view.jobCpu) {
    const entry = j.factory ? `${j.entry}@${j.factory}` : (byName.get(j.entry) ?? j.entry);
    const key = `cpu\u0000${j.schedd}\u0000${j.factory}\u0000${j.entry}`;
    add(cpu, entry, increase(previous, key, j.cpuSeconds));
  }
  const core = new Map<string, number>();
  // An entry whose factory sends no core-seconds has no goodput series, rather than one of 0s.
  for (const e of view.entries)
    if (e.pilotCoreSeconds !== null)
      add(core, e.entry, increase(previous, `core\u0000${e.entry}`, e.pilotCoreSeconds));
  for (const [entry, v] of cpu)
    out.push({ name: SERIES.jobCpu, labels: { entry }, kind: "events", value: v });
  for (const [entry, v] of core)
    out.push({ name: SERIES.pilotCoreTime, labels: { entry }, kind: "events", value: v });
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
