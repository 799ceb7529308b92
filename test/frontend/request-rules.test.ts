import assert from "node:assert/strict";
import { test } from "node:test";
import {
  computeIdleRequest,
  computeMaxRequest,
  type EntryDemand,
  type GroupTotals,
} from "../../src/frontend/request-rules.js";
import { demand, limits, totals } from "./helpers.js";

interface IdleCase {
  name: string;
  d: Partial<EntryDemand>;
  t?: Partial<GroupTotals>;
  l?: Record<string, unknown>;
  reqIdle: number;
  /** Reason kinds (and limit names) in order. */
  why: string[];
}

const idleCases: IdleCase[] = [
  {
    name: "effective idle is the proportional jobs minus usable idle capacity",
    d: { prop: 10, propMc: 10, usableIdlePilots: 3, idleSlots: 3 },
    reqIdle: 7,
    why: [],
  },
  {
    name: "multicore: proportional jobs in pilots are rounded up",
    d: { prop: 20, propMc: 2.5 },
    reqIdle: 3,
    why: [],
  },
  {
    name: "entry in downtime gets nothing",
    d: { prop: 10, propMc: 10, inDowntime: true },
    reqIdle: 0,
    why: ["downtime"],
  },
  {
    name: "no idle jobs, no new pilots",
    d: { prop: 0, propMc: 0, idleSlots: 0 },
    reqIdle: 0,
    why: ["no-idle-jobs"],
  },
  {
    name: "idle pilots already cover the jobs",
    d: { prop: 5, propMc: 5, usableIdlePilots: 5, idleSlots: 5 },
    reqIdle: 0,
    why: ["idle-capacity-covers-jobs"],
  },
  {
    name: "running_glideins_per_entry max reached",
    d: { prop: 10, propMc: 10, pilots: 10 },
    l: { running_glideins_per_entry: { max: 10, curb: 1000 } },
    reqIdle: 0,
    why: ["max-reached:running_glideins_per_entry"],
  },
  {
    name: "idle_vms_per_entry max reached (idle pilots that cannot take these jobs)",
    d: { prop: 10, propMc: 10, idleSlots: 4 },
    l: { idle_vms_per_entry: { max: 4, curb: 1000 } },
    reqIdle: 0,
    why: ["max-reached:idle_vms_per_entry"],
  },
  {
    name: "running_glideins_total max reached",
    d: { prop: 10, propMc: 10 },
    t: { pilots: 100 },
    l: { running_glideins_total: { max: 100, curb: 1000 } },
    reqIdle: 0,
    why: ["max-reached:running_glideins_total"],
  },
  {
    name: "idle_vms_total max reached",
    d: { prop: 10, propMc: 10 },
    t: { idleSlots: 50 },
    l: { idle_vms_total: { max: 50, curb: 1000 } },
    reqIdle: 0,
    why: ["max-reached:idle_vms_total"],
  },
  {
    name: "idle_glideins_total max reached",
    d: { prop: 10, propMc: 10 },
    t: { queuedIdle: 20 },
    l: { idle_glideins_total: { max: 20, curb: 1000 } },
    reqIdle: 0,
    why: ["max-reached:idle_glideins_total"],
  },
  {
    name: "every maximum reached is recorded",
    d: { prop: 10, propMc: 10, pilots: 10, idleSlots: 4 },
    l: {
      running_glideins_per_entry: { max: 10, curb: 1000 },
      idle_vms_per_entry: { max: 4, curb: 1000 },
    },
    reqIdle: 0,
    why: ["max-reached:running_glideins_per_entry", "max-reached:idle_vms_per_entry"],
  },
  {
    name: "no more than the room left under a maximum",
    d: { prop: 10, propMc: 10, pilots: 2 },
    l: { running_glideins_per_entry: { max: 6, curb: 1000 } },
    reqIdle: 4,
    why: ["headroom:running_glideins_per_entry"],
  },
  {
    name: "ramp-up asks for a third",
    d: { prop: 10, propMc: 10 },
    l: { ramp_up_attenuation: 3 },
    reqIdle: 3,
    why: ["ramp-up"],
  },
  {
    name: "ramp-up never starves an entry with demand",
    d: { prop: 2, propMc: 2 },
    l: { ramp_up_attenuation: 3 },
    reqIdle: 1,
    why: ["ramp-up", "at-least-one"],
  },
  {
    name: "never more than the per-entry idle max",
    d: { prop: 10, propMc: 10 },
    l: { idle_glideins_per_entry: { max: 5, curb: 1000 } },
    reqIdle: 5,
    why: ["idle-max"],
  },
  {
    name: "idle_vms_per_entry curb halves",
    d: { prop: 10, propMc: 10, idleSlots: 2 },
    l: { idle_vms_per_entry: { max: 100, curb: 2 } },
    reqIdle: 5,
    why: ["curb:idle_vms_per_entry"],
  },
  {
    name: "running_glideins_per_entry curb halves",
    d: { prop: 10, propMc: 10, pilots: 3 },
    l: { running_glideins_per_entry: { max: 100, curb: 3 } },
    reqIdle: 5,
    why: ["curb:running_glideins_per_entry"],
  },
  {
    name: "idle_glideins_per_entry curb halves",
    d: { prop: 10, propMc: 10, queuedIdle: 8 },
    l: { idle_glideins_per_entry: { max: 100, curb: 8 } },
    reqIdle: 5,
    why: ["curb:idle_glideins_per_entry"],
  },
  {
    name: "running_glideins_total curb halves",
    d: { prop: 10, propMc: 10 },
    t: { pilots: 60 },
    l: { running_glideins_total: { max: 100, curb: 50 } },
    reqIdle: 5,
    why: ["curb:running_glideins_total"],
  },
  {
    name: "idle_vms_total curb halves",
    d: { prop: 10, propMc: 10 },
    t: { idleSlots: 60 },
    l: { idle_vms_total: { max: 100, curb: 50 } },
    reqIdle: 5,
    why: ["curb:idle_vms_total"],
  },
  {
    name: "idle_glideins_total curb halves",
    d: { prop: 10, propMc: 10 },
    t: { queuedIdle: 60 },
    l: { idle_glideins_total: { max: 100, curb: 50 } },
    reqIdle: 5,
    why: ["curb:idle_glideins_total"],
  },
  {
    name: "each curb halves again",
    d: { prop: 16, propMc: 16, idleSlots: 2 },
    t: { pilots: 60, idleSlots: 2 },
    l: {
      idle_vms_per_entry: { max: 100, curb: 2 },
      running_glideins_total: { max: 100, curb: 50 },
    },
    reqIdle: 4,
    why: ["curb:idle_vms_per_entry", "curb:running_glideins_total"],
  },
  {
    name: "ramp-up, idle max and curb apply in that order",
    d: { prop: 60, propMc: 60, queuedIdle: 8 },
    l: { ramp_up_attenuation: 3, idle_glideins_per_entry: { max: 12, curb: 8 } },
    reqIdle: 6,
    why: ["ramp-up", "idle-max", "curb:idle_glideins_per_entry"],
  },
];

for (const c of idleCases) {
  test(`ReqIdleGlideins: ${c.name}`, () => {
    const r = computeIdleRequest(demand(c.d), totals(c.t), limits(c.l));
    assert.equal(r.reqIdle, c.reqIdle);
    const why = r.reasons.map((x) => ("limit" in x ? `${x.kind}:${x.limit}` : x.kind));
    assert.deepEqual(why, c.why);
  });
}

interface MaxCase {
  name: string;
  d: Partial<EntryDemand>;
  l?: Record<string, unknown>;
  reqMax: number;
}

const maxCases: MaxCase[] = [
  {
    name: "(effective idle + running here) x relative_to_queue + 1",
    d: { prop: 10, propMc: 10, runningSlots: 5 },
    l: { relative_to_queue: 1.15 },
    reqMax: 18,
  },
  {
    name: "idle pilots already there reduce the room",
    d: { prop: 10, propMc: 10, idleSlots: 4 },
    reqMax: 7,
  },
  { name: "no idle jobs: keep what runs, no more", d: { prop: 0, runningSlots: 5 }, reqMax: 5 },
  {
    name: "downtime: keep what runs, no more",
    d: { prop: 10, propMc: 10, runningSlots: 3, inDowntime: true },
    reqMax: 3,
  },
  {
    name: "never above running_glideins_per_entry max",
    d: { prop: 100, propMc: 100 },
    l: { running_glideins_per_entry: { max: 10, curb: 10 } },
    reqMax: 10,
  },
];

for (const c of maxCases) {
  test(`ReqMaxGlideins: ${c.name}`, () => {
    assert.equal(computeMaxRequest(demand(c.d), limits(c.l)).reqMax, c.reqMax);
  });
}
