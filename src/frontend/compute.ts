/**
 * One frontend cycle for one group, as a pure function of the snapshot: select jobs and entries,
 * match, count, and compute each entry's request. The daemon only gathers the snapshot, calls
 * this, and advertises the result (see ads.ts).
 */
import {
  ClassAd,
  type CompiledExpr,
  describeBound,
  isTrueEquivalent,
  Real,
  type Value,
} from "../classad/index.js";
import type { FnContext } from "../classad/functions/index.js";
import { countMatches } from "./counting.js";
import { runToEnd, type Sliced } from "./slices.js";
import type { GroupPolicy } from "./group-policy.js";
import {
  buildMatchMatrixSliced,
  DEFAULT_MATCH_BOUNDS,
  type MatchBounds,
  type MatchError,
} from "./match-matrix.js";
import { countPilots, pilotsAtEntry, type PilotCounts } from "./pilot-counts.js";
import { computeRemoval, type RemovalRequest } from "./removal.js";
import {
  computeIdleRequest,
  computeMaxRequest,
  type EntryDemand,
  type GroupTotals,
  type RequestReason,
} from "./request-rules.js";
import type { AutoclusterSummary, Snapshot } from "./snapshot.js";
import { COMMON, GLIDE_FACTORY, JOB } from "../ads/names.js";

export interface EntryPlan {
  /** The entry's GlideFactory ad Name (`entry@glidein@factory`). */
  entry: string;
  inDowntime: boolean;
  /** GLIDEIN_CPUS of the entry's pilots. */
  glideinCpus: number;
  jobs: { count: number; prop: number; hereonly: number; propMc: number; effectiveIdle: number };
  pilots: PilotCounts & { total: number };
  request: { idle: number; max: number; removal: RemovalRequest };
  /** Every limit, curb or rule that shaped the request, in the order applied. */
  reasons: RequestReason[];
  /** Match expression errors against this entry (treated as no match). */
  matchError?: MatchError;
}

export interface GroupPlan {
  group: string;
  entries: EntryPlan[];
  /** Idle jobs of the group (after the job query) and those no entry matches. */
  idleJobs: number;
  unmatchedJobs: number;
  totals: GroupTotals;
  /** Ads that could not be used (bad expression text), with why. */
  problems: string[];
  /** Autoclusters whose attributes met an evaluation bound: they matched no entry this cycle. */
  overBound: { schedd: string; autocluster: string; bound: string }[];
  /** The cycle's step budget ran out: some autoclusters were not evaluated this cycle. */
  cycleExhausted: boolean;
}

interface ParsedSnapshot {
  entries: { ad: ClassAd; name: string }[];
  jobs: { ad: ClassAd; summary: AutoclusterSummary }[];
  problems: string[];
}

// Several groups plan on the same snapshot: parse its ads once.
const parsedCache = new WeakMap<Snapshot, ParsedSnapshot>();

function parseAds(snapshot: Snapshot): ParsedSnapshot {
  const cached = parsedCache.get(snapshot);
  if (cached) return cached;
  const problems: string[] = [];
  const entries: ParsedSnapshot["entries"] = [];
  snapshot.factory_ads.forEach((attrs, i) => {
    try {
      const ad = ClassAd.fromJSON(attrs);
      const name = ad.evaluate(COMMON.Name);
      if (typeof name !== "string") problems.push(`factory_ads[${i}]: no string Name`);
      else entries.push({ ad, name });
    } catch (err) {
      problems.push(`factory_ads[${i}]: ${(err as Error).message}`);
    }
  });
  const jobs: ParsedSnapshot["jobs"] = [];
  snapshot.autoclusters.forEach((summary, i) => {
    try {
      jobs.push({ ad: ClassAd.fromJSON(summary.job), summary });
    } catch (err) {
      problems.push(
        `autoclusters[${i}] (${summary.schedd}#${summary.id}): ${(err as Error).message}`,
      );
    }
  });
  const parsed = { entries, jobs, problems };
  parsedCache.set(snapshot, parsed);
  return parsed;
}

function numberOf(v: Value, fallback: number): number {
  if (typeof v === "number") return v;
  if (typeof v === "bigint") return Number(v);
  if (v instanceof Real) return v.v;
  if (typeof v === "string" && /^\s*\d+(\.\d+)?\s*$/.test(v)) return Number(v);
  return fallback;
}

function truthy(v: Value): boolean {
  if (typeof v === "string") return v.trim().toLowerCase() === "true";
  return isTrueEquivalent(v);
}

function selected(q: CompiledExpr, ad: ClassAd, ctx: FnContext): boolean {
  return isTrueEquivalent(ad.evaluateExpr(q, null, { ctx }));
}

/** Plan one cycle of one group. `now` is seconds since the epoch (for `time()` in expressions). */
export function planCycle(
  policy: GroupPolicy,
  snapshot: Snapshot,
  now: number,
  bounds: MatchBounds = DEFAULT_MATCH_BOUNDS,
): GroupPlan {
  return runToEnd(planCycleSliced(policy, snapshot, now, bounds));
}

/** `planCycle` yielding the steps of each match evaluation (see slices.ts). */
export function* planCycleSliced(
  policy: GroupPolicy,
  snapshot: Snapshot,
  now: number,
  bounds: MatchBounds = DEFAULT_MATCH_BOUNDS,
): Sliced<GroupPlan> {
  const ctx: FnContext = { now: () => now };
  const parsed = parseAds(snapshot);
  const entries = parsed.entries.filter((e) => selected(policy.factoryQuery, e.ad, ctx));
  const jobs = parsed.jobs.filter(
    (j) =>
      j.summary.count > 0 &&
      (policy.schedds === undefined || policy.schedds.includes(j.summary.schedd)) &&
      selected(policy.jobQuery, j.ad, ctx),
  );

  const matrix = yield* buildMatchMatrixSliced(
    policy.match,
    jobs.map((j) => j.ad),
    entries.map((e) => e.ad),
    policy.matchAttrs.factory,
    ctx,
    bounds,
  );
  const entryFacts = entries.map((e) => ({
    glideinCpus: Math.max(1, Math.floor(numberOf(e.ad.evaluate(GLIDE_FACTORY.GlideinCpus), 1))),
    inDowntime: truthy(e.ad.evaluate(GLIDE_FACTORY.InDowntime)),
  }));
  const jobFacts = jobs.map((j) => ({
    count: j.summary.count,
    cpus: Math.max(1, numberOf(j.ad.evaluate(JOB.RequestCpus), 1)),
    memory: Math.max(0, numberOf(j.ad.evaluate(JOB.RequestMemory), 0)),
  }));
  const counts = countMatches(matrix, jobFacts, entryFacts);

  let idleJobs = 0;
  let unmatchedJobs = 0;
  jobFacts.forEach((j, a) => {
    idleJobs += j.count;
    if (matrix.matches[a]!.length === 0) unmatchedJobs += j.count;
  });

  const names = entries.map((e) => e.name);
  const pilots = countPilots(snapshot, policy.name, names, counts.minMemoryPerCore);
  const totals: GroupTotals = { pilots: 0, idleSlots: 0, queuedIdle: 0 };
  for (const p of pilots) {
    totals.pilots += pilotsAtEntry(p);
    totals.idleSlots += p.idleSlots;
    totals.queuedIdle += p.queuedIdle;
  }

  const plans = entries.map((_, i): EntryPlan => {
    const p = pilots[i]!;
    const facts = entryFacts[i]!;
    const demand: EntryDemand = {
      inDowntime: facts.inDowntime,
      prop: counts.prop[i]!,
      propMc: counts.propMc[i]!,
      usableIdlePilots: p.usableIdleCores / facts.glideinCpus,
      idleSlots: p.idleSlots,
      runningSlots: p.runningSlots,
      pilots: pilotsAtEntry(p),
      queuedIdle: p.queuedIdle,
    };
    const idle = computeIdleRequest(demand, totals, policy.limits);
    const max = computeMaxRequest(demand, policy.limits);
    const removal = computeRemoval(demand, idle.reqIdle, max.reqMax, policy.limits.removal);
    const plan: EntryPlan = {
      entry: names[i]!,
      inDowntime: facts.inDowntime,
      glideinCpus: facts.glideinCpus,
      jobs: {
        count: counts.count[i]!,
        prop: counts.prop[i]!,
        hereonly: counts.hereonly[i]!,
        propMc: Math.round(counts.propMc[i]! * 100) / 100,
        effectiveIdle: idle.effectiveIdle,
      },
      pilots: { ...p, total: demand.pilots },
      request: { idle: idle.reqIdle, max: max.reqMax, removal },
      reasons: [...idle.reasons, ...max.reasons],
    };
    const err = matrix.errors[matrix.entryClass[i]!];
    if (err) plan.matchError = { ...err };
    return plan;
  });

  return {
    group: policy.name,
    entries: plans,
    idleJobs,
    unmatchedJobs,
    totals,
    problems: [...parsed.problems],
    overBound: [...matrix.overBound].map(([a, bound]) => ({
      schedd: jobs[a]!.summary.schedd,
      autocluster: String(jobs[a]!.summary.id),
      bound: describeBound(bound),
    })),
    cycleExhausted: matrix.cycleExhausted,
  };
}

/** A reason as a short phrase for tables and logs. */
export function describeReason(r: RequestReason): string {
  switch (r.kind) {
    case "downtime":
      return "entry in downtime";
    case "no-idle-jobs":
      return "no idle jobs";
    case "idle-capacity-covers-jobs":
      return `idle pilots cover the jobs (${Math.round(r.usableIdlePilots * 100) / 100})`;
    case "max-reached":
      return `${r.limit} max reached (${r.count}/${r.max})`;
    case "headroom":
      return `${r.limit} headroom ${r.room}`;
    case "ramp-up":
      return `ramp-up /${r.attenuation}`;
    case "idle-max":
      return `idle_glideins_per_entry max ${r.max}`;
    case "curb":
      return `${r.limit} curb (${r.count}>=${r.curb}) /2`;
    case "at-least-one":
      return "at least one";
    case "max-running-cap":
      return `ReqMax capped at running_glideins_per_entry max ${r.max}`;
  }
}
