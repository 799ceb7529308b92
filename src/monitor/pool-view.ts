/**
 * What the pool page shows, read from the ads the collector holds: entries with their pilots,
 * requests, downtime and failures (GlideFactory, GlideFactoryClient), what each frontend group
 * asked and the limits that shaped it (GlideResource), jobs per schedd and owner (Scheduler
 * ads' Submitters), busy cores per entry (Slot ads), and goodput's counters (each entry's pilot
 * core-seconds, each schedd's job CPU per entry) and each entry's last failed pilots. Pure; the ads are hostile input like
 * any other, so every field is typed on the way in and every table is capped.
 */
import { ClassAd, ListValue } from "../classad/index.js";
import {
  AD_TYPE,
  COMMON,
  GLIDE_FACTORY as F,
  GLIDE_FACTORY_CLIENT as FC,
  GLIDE_RESOURCE as R,
  SCHEDULER,
  SUBMITTER,
  SLOT,
} from "../ads/names.js";
import { readRecentFailures } from "../ads/glide-factory.js";
import { parseClassCounts } from "../ads/glide-factory-client.js";
import { readJobCpuByEntry } from "../ads/scheduler.js";
import { isDynamicSlot } from "../ads/slot.js";

/** Rows past this per table are left out (and counted), so a flood of ads cannot bloat the page. */
export const MAX_ROWS = 500;
const MAX_TEXT = 200;
/** A last failure names the pilot's class, the node's message and its last stderr lines. */
const MAX_FAILURE_TEXT = 640;
/** Individual failures listed, newest first, across the pool. */
export const MAX_RECENT_FAILURES = 100;
/** Failures read from one entry's ad (the factory sends a few). */
const RECENT_PER_AD = 20;
/** (schedd, entry) pairs of job CPU read: a schedd names at most 2,000 entries. */
const MAX_JOB_CPU_ROWS = 10_000;

export type EntryRow = {
  /** `entry@factory`, the GlideFactory ad's name. */
  entry: string;
  /** The entry's own name (its EntryName), as schedds name it beside the factory in job CPU. */
  entryName: string;
  downtime: boolean;
  idle: number;
  running: number;
  held: number;
  requestedIdle: number;
  requestedMax: number;
  limits: string;
  finished: number;
  failed: number;
  failedByClass: Record<string, number>;
  lastError: string;
  submitError: string;
  /** Core-seconds of the entry's running pilots, all time (the factory's counter); null if not sent. */
  pilotCoreSeconds: number | null;
};

/** One failed pilot, from its entry's list of recent failures. */
export type FailureRow = {
  /** Milliseconds since the epoch. */
  at: number;
  entry: string;
  client: string;
  failureClass: string;
  error: string;
};

/**
 * Job CPU seconds one schedd counted for one entry's pilots (a counter since it started); the
 * factory is "" when the pilots did not name theirs.
 */
export type JobCpuRow = { schedd: string; entry: string; factory: string; cpuSeconds: number };

export type GroupRow = {
  frontend: string;
  group: string;
  entry: string;
  matchingIdleJobs: number;
  requestedIdle: number;
  requestedMax: number;
  limits: string;
};

export type JobRow = { schedd: string; owner: string; idle: number; running: number; held: number };

export type CoreRow = {
  entry: string;
  slots: number;
  cores: number;
  busyCores: number;
  jobs: number;
};

export type PoolView = {
  /** Milliseconds since the epoch. */
  at: number;
  entries: EntryRow[];
  groups: GroupRow[];
  jobs: JobRow[];
  cores: CoreRow[];
  recentFailures: FailureRow[];
  jobCpu: JobCpuRow[];
  /** Rows left out by MAX_ROWS, per table. */
  truncated: Record<string, number>;
};

export type AdsOfType = (type: string) => Iterable<ClassAd>;

// Control characters would garble the page's cells; the page sets text, so nothing else needs care.
// Most text has none: it is returned as it is, without a copy per character (100,000 slot ads
// name their entry and factory on every sample).
const text = (s: string | undefined, max = MAX_TEXT): string => {
  const v = (s ?? "").slice(0, max);
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return blankControls(v);
  }
  return v;
};
const blankControls = (v: string): string =>
  Array.from(v, (ch) => {
    const c = ch.charCodeAt(0);
    return c < 0x20 || c === 0x7f ? " " : ch;
  }).join("");
const count = (n: number | undefined): number =>
  n !== undefined && Number.isFinite(n) && n >= 0 ? n : 0;

class Capped<T> {
  readonly rows: T[] = [];
  dropped = 0;
  constructor(private readonly max = MAX_ROWS) {}
  push(row: T): void {
    if (this.rows.length < this.max) this.rows.push(row);
    else this.dropped++;
  }
}

function entryRows(adsOf: AdsOfType, failures: FailureRow[]): Capped<EntryRow> {
  const byName = new Map<string, EntryRow>();
  const out = new Capped<EntryRow>();
  const blank = (entry: string): EntryRow => ({
    entry,
    entryName: "",
    downtime: false,
    idle: 0,
    running: 0,
    held: 0,
    requestedIdle: 0,
    requestedMax: 0,
    limits: "",
    finished: 0,
    failed: 0,
    failedByClass: {},
    lastError: "",
    submitError: "",
    pilotCoreSeconds: null,
  });
  for (const ad of adsOf(AD_TYPE.GlideFactory)) {
    const name = text(ad.getString(COMMON.Name));
    if (!name || byName.has(name)) continue;
    const row = blank(name);
    row.downtime = ad.getBool(F.InDowntime) === true;
    row.idle = count(ad.getInteger(F.TotalStatusIdle));
    row.running = count(ad.getInteger(F.TotalStatusRunning));
    row.held = count(ad.getInteger(F.TotalStatusHeld));
    row.submitError = text(ad.getString(F.SubmitLastError));
    row.entryName = text(ad.getString(F.EntryName));
    const coreS = ad.getNumber(F.PilotCoreSeconds);
    row.pilotCoreSeconds = coreS === undefined ? null : count(coreS);
    out.push(row);
    if (out.dropped > 0) continue;
    byName.set(name, row);
    failuresOf(ad, name, failures);
  }
  const limits = new Map<string, Set<string>>();
  for (const ad of adsOf(AD_TYPE.GlideFactoryClient)) {
    const row = byName.get(text(ad.getString(FC.ReqGlidein)));
    if (!row) continue;
    row.requestedIdle += count(ad.getInteger(FC.RequestedIdle));
    row.requestedMax += count(ad.getInteger(FC.RequestedMaxGlideins));
    row.finished += count(ad.getInteger(FC.FinishedPilots));
    row.failed += count(ad.getInteger(FC.FailedPilots));
    const byClass = parseClassCounts(ad.getString(FC.FailedByClass));
    for (const [k, v] of Object.entries(byClass))
      row.failedByClass[k] = (row.failedByClass[k] ?? 0) + v;
    const last = text(ad.getString(FC.LastFailure), MAX_FAILURE_TEXT);
    if (last) row.lastError = last;
    const set = limits.get(row.entry) ?? new Set<string>();
    for (const l of text(ad.getString(FC.LimitsHit)).split(",")) if (l) set.add(l);
    limits.set(row.entry, set);
  }
  for (const row of out.rows) row.limits = [...(limits.get(row.entry) ?? [])].sort().join(",");
  out.rows.sort((a, b) => (a.entry < b.entry ? -1 : 1));
  return out;
}

/** One entry's last failed pilots, from its GlideFactory ad. */
function failuresOf(ad: ClassAd, entry: string, into: FailureRow[]): void {
  for (const f of readRecentFailures(ad, RECENT_PER_AD)) {
    into.push({
      at: f.timeS * 1000,
      entry,
      client: text(f.client),
      failureClass: text(f.failureClass, 40),
      error: text(f.error, MAX_FAILURE_TEXT),
    });
  }
}

/** Newest first across the pool, at most MAX_RECENT_FAILURES. */
function newestFailures(rows: FailureRow[]): FailureRow[] {
  rows.sort((a, b) => b.at - a.at || (a.entry < b.entry ? -1 : a.entry > b.entry ? 1 : 0));
  return rows.slice(0, MAX_RECENT_FAILURES);
}

function jobCpuRows(adsOf: AdsOfType): Capped<JobCpuRow> {
  const out = new Capped<JobCpuRow>(MAX_JOB_CPU_ROWS);
  for (const ad of adsOf(AD_TYPE.Scheduler)) {
    const schedd = text(ad.getString(COMMON.Name));
    for (const e of readJobCpuByEntry(ad))
      out.push({
        schedd,
        entry: text(e.entry),
        factory: text(e.factory ?? ""),
        cpuSeconds: e.cpuSeconds,
      });
  }
  return out;
}

function groupRows(adsOf: AdsOfType): Capped<GroupRow> {
  const out = new Capped<GroupRow>();
  for (const ad of adsOf(AD_TYPE.GlideResource)) {
    out.push({
      frontend: text(ad.getString(R.FrontendName)),
      group: text(ad.getString(R.GroupName)),
      entry: text(ad.getString(R.GlideFactoryEntry)),
      matchingIdleJobs: count(ad.getInteger(R.JobsIdleMatching)),
      requestedIdle: count(ad.getInteger(R.GlideinsRequestIdle)),
      requestedMax: count(ad.getInteger(R.GlideinsRequestMaxRun)),
      limits: text(ad.getString(R.LimitsTriggered)),
    });
  }
  const key = (r: GroupRow) => `${r.frontend}\u0000${r.group}\u0000${r.entry}`;
  out.rows.sort((a, b) => (key(a) < key(b) ? -1 : 1));
  return out;
}

function jobRows(adsOf: AdsOfType): Capped<JobRow> {
  const out = new Capped<JobRow>();
  for (const ad of adsOf(AD_TYPE.Scheduler)) {
    const schedd = text(ad.getString(COMMON.Name));
    const submitters = ad.evaluate(SCHEDULER.Submitters);
    if (!(submitters instanceof ListValue)) continue;
    for (const s of submitters.items) {
      if (!(s instanceof ClassAd)) continue;
      out.push({
        schedd,
        owner: text(s.getString(SUBMITTER.Name)),
        idle: count(s.getInteger(SUBMITTER.IdleJobs)),
        running: count(s.getInteger(SUBMITTER.RunningJobs)),
        held: count(s.getInteger(SUBMITTER.HeldJobs)),
      });
    }
  }
  const key = (r: JobRow) => `${r.schedd}\u0000${r.owner}`;
  out.rows.sort((a, b) => (key(a) < key(b) ? -1 : 1));
  return out;
}

function coreRows(adsOf: AdsOfType): Capped<CoreRow> {
  const byEntry = new Map<string, CoreRow>();
  const out = new Capped<CoreRow>();
  for (const ad of adsOf(AD_TYPE.Slot)) {
    // Jobs are counted from their pilot's NumDynamicSlots, cores from its partitionable slot.
    if (isDynamicSlot(ad)) continue;
    const entry = text(ad.getString(SLOT.EntryName)) || "_unknown";
    const factory = text(ad.getString(SLOT.Factory));
    const name = factory ? `${entry}@${factory}` : entry;
    let row = byEntry.get(name);
    if (!row) {
      row = { entry: name, slots: 0, cores: 0, busyCores: 0, jobs: 0 };
      out.push(row);
      if (out.dropped > 0) continue;
      byEntry.set(name, row);
    }
    const total = count(ad.getInteger(SLOT.TotalCpus));
    const free = Math.min(total, count(ad.getInteger(SLOT.Cpus)));
    row.slots++;
    row.cores += total;
    row.busyCores += total - free;
    row.jobs += count(ad.getInteger(SLOT.NumDynamicSlots));
  }
  out.rows.sort((a, b) => (a.entry < b.entry ? -1 : 1));
  return out;
}

export function poolView(adsOf: AdsOfType, nowMs: number): PoolView {
  const failures: FailureRow[] = [];
  const entries = entryRows(adsOf, failures);
  const groups = groupRows(adsOf);
  const jobs = jobRows(adsOf);
  const cores = coreRows(adsOf);
  const jobCpu = jobCpuRows(adsOf);
  const truncated: Record<string, number> = {};
  for (const [k, t] of Object.entries({ entries, groups, jobs, cores, jobCpu }))
    if (t.dropped > 0) truncated[k] = t.dropped;
  return {
    at: nowMs,
    entries: entries.rows,
    groups: groups.rows,
    jobs: jobs.rows,
    cores: cores.rows,
    recentFailures: newestFailures(failures),
    jobCpu: jobCpu.rows,
    truncated,
  };
}
