/**
 * How many pilots to ask one entry for, following glideinWMS's frontend element: effective idle
 * = what the jobs need minus the idle capacity already there; nothing when any maximum is
 * reached; otherwise no more than the headroom under each maximum, a fraction of it (ramp-up),
 * capped by the per-entry idle maximum, halved at each curb passed, and at least one. Every rule
 * that changed the answer is recorded as a tagged reason so operators can see why.
 */
import type { GroupLimits } from "./config.js";

/** One limit, curb or rule that shaped a request. */
export type RequestReason =
  | { kind: "downtime" }
  | { kind: "no-idle-jobs" }
  | { kind: "idle-capacity-covers-jobs"; usableIdlePilots: number }
  | { kind: "max-reached"; limit: LimitName; count: number; max: number }
  | { kind: "headroom"; limit: LimitName; room: number }
  | { kind: "ramp-up"; attenuation: number }
  | { kind: "idle-max"; max: number }
  | { kind: "curb"; limit: LimitName; count: number; curb: number }
  | { kind: "at-least-one" }
  | { kind: "max-running-cap"; max: number };

export type LimitName =
  | "running_glideins_per_entry"
  | "running_glideins_total"
  | "idle_glideins_per_entry"
  | "idle_glideins_total"
  | "idle_vms_per_entry"
  | "idle_vms_total";

/** What one entry has and needs this cycle, in pilots unless named otherwise. */
export interface EntryDemand {
  inDowntime: boolean;
  /** Proportional idle jobs (whole jobs). */
  prop: number;
  /** Proportional idle jobs in pilots (prop x RequestCpus / GLIDEIN_CPUS). */
  propMc: number;
  /** Idle capacity that can take a job now, in pilots (usable idle cores / GLIDEIN_CPUS). */
  usableIdlePilots: number;
  /** Registered pilots with nothing to run (any, usable or not). */
  idleSlots: number;
  /** Registered pilots running jobs. */
  runningSlots: number;
  /** Pilots at this entry: registered or still waiting in the site queue. */
  pilots: number;
  /** Pilots waiting in the site queue (factory's view). */
  queuedIdle: number;
}

/** Sums over all entries of the group, for the `_total` limits. */
export interface GroupTotals {
  pilots: number;
  idleSlots: number;
  queuedIdle: number;
}

export interface IdleRequest {
  /** Pilots the group still needs here after idle capacity (before limits). */
  effectiveIdle: number;
  reqIdle: number;
  reasons: RequestReason[];
}

interface Check {
  limit: LimitName;
  count: number;
  max: number;
  curb: number;
}

function checks(d: EntryDemand, t: GroupTotals, l: GroupLimits): Check[] {
  const c = (limit: LimitName, count: number, mc: { max: number; curb: number }): Check => ({
    limit,
    count,
    max: mc.max,
    curb: mc.curb,
  });
  return [
    c("running_glideins_per_entry", d.pilots, l.running_glideins_per_entry),
    c("idle_vms_per_entry", d.idleSlots, l.idle_vms_per_entry),
    c("idle_glideins_per_entry", d.queuedIdle, l.idle_glideins_per_entry),
    c("running_glideins_total", t.pilots, l.running_glideins_total),
    c("idle_vms_total", t.idleSlots, l.idle_vms_total),
    c("idle_glideins_total", t.queuedIdle, l.idle_glideins_total),
  ];
}

/** Limits whose reaching stops requests (the per-entry idle-queue max is a cap instead). */
const STOPPING = new Set<LimitName>([
  "running_glideins_per_entry",
  "idle_vms_per_entry",
  "running_glideins_total",
  "idle_vms_total",
  "idle_glideins_total",
]);

export function effectiveIdle(d: EntryDemand): number {
  return Math.max(0, Math.ceil(d.propMc - d.usableIdlePilots - 1e-9));
}

/** ReqIdleGlideins for one entry. */
export function computeIdleRequest(d: EntryDemand, t: GroupTotals, l: GroupLimits): IdleRequest {
  const effective = effectiveIdle(d);
  const done = (reqIdle: number, reasons: RequestReason[]): IdleRequest => ({
    effectiveIdle: effective,
    reqIdle,
    reasons,
  });
  if (d.inDowntime) return done(0, [{ kind: "downtime" }]);
  if (d.prop <= 0) return done(0, [{ kind: "no-idle-jobs" }]);

  const all = checks(d, t, l);
  const reached = all.filter((c) => STOPPING.has(c.limit) && c.count >= c.max);
  if (reached.length > 0) {
    return done(
      0,
      reached.map((c) => ({ kind: "max-reached", limit: c.limit, count: c.count, max: c.max })),
    );
  }
  if (effective <= 0) {
    return done(0, [{ kind: "idle-capacity-covers-jobs", usableIdlePilots: d.usableIdlePilots }]);
  }

  const reasons: RequestReason[] = [];
  // Not perfect with many entries drawing on one total, but keeps one cycle from overshooting.
  let req = effective;
  let tightest: Check | undefined;
  for (const c of all) {
    if (!STOPPING.has(c.limit)) continue;
    const room = c.max - c.count;
    if (room < req) {
      req = room;
      tightest = c;
    }
  }
  if (tightest) reasons.push({ kind: "headroom", limit: tightest.limit, room: req });

  const attenuated = Math.floor(req / l.ramp_up_attenuation);
  if (attenuated < req) reasons.push({ kind: "ramp-up", attenuation: l.ramp_up_attenuation });
  req = attenuated;

  const idleMax = l.idle_glideins_per_entry.max;
  if (req > idleMax) {
    req = idleMax;
    reasons.push({ kind: "idle-max", max: idleMax });
  }

  // Exponential back-off: each curb passed halves what is left.
  let value = req;
  for (const c of all) {
    if (c.count >= c.curb) {
      value /= 2;
      reasons.push({ kind: "curb", limit: c.limit, count: c.count, curb: c.curb });
    }
  }
  let reqIdle = Math.floor(value);
  if (reqIdle < 1 && idleMax >= 1) {
    // There is demand nobody covers: keep one pilot coming so the entry is not starved.
    reqIdle = 1;
    reasons.push({ kind: "at-least-one" });
  }
  return done(reqIdle, reasons);
}

/**
 * ReqMaxGlideins: room for the jobs here plus a margin (`relative_to_queue`), never shrinking
 * below what already runs, and never above the per-entry maximum.
 */
export function computeMaxRequest(
  d: EntryDemand,
  l: GroupLimits,
): { reqMax: number; reasons: RequestReason[] } {
  if (d.inDowntime || d.prop <= 0) return { reqMax: d.runningSlots, reasons: [] };
  // Idle pilots (not idle cores: fragments may never fit a job) already offset the need.
  const need = Math.max(0, Math.ceil(d.propMc - 1e-9) - d.idleSlots);
  const wanted = Math.floor((need + d.runningSlots) * l.relative_to_queue + 1);
  const cap = l.running_glideins_per_entry.max;
  if (wanted > cap) return { reqMax: cap, reasons: [{ kind: "max-running-cap", max: cap }] };
  return { reqMax: wanted, reasons: [] };
}
