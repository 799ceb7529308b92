import assert from "node:assert/strict";
import { test } from "node:test";
import type { RemovalType } from "../../src/frontend/config.js";
import type { EntryDemand } from "../../src/frontend/request-rules.js";
import { computeRemoval } from "../../src/frontend/removal.js";
import { demand } from "./helpers.js";

interface Case {
  name: string;
  policy: RemovalType;
  margin: number;
  d: Partial<EntryDemand>;
  reqIdle: number;
  reqMax: number;
  type: RemovalType;
  excess: number;
}

const cases: Case[] = [
  {
    name: "NO never removes",
    policy: "NO",
    margin: 0,
    d: { queuedIdle: 10, idleSlots: 10, pilots: 30 },
    reqIdle: 0,
    reqMax: 0,
    type: "NO",
    excess: 0,
  },
  {
    name: "WAIT removes queued pilots beyond request + margin",
    policy: "WAIT",
    margin: 3,
    d: { queuedIdle: 10, pilots: 10 },
    reqIdle: 2,
    reqMax: 20,
    type: "WAIT",
    excess: 5,
  },
  {
    name: "WAIT within the margin removes nothing",
    policy: "WAIT",
    margin: 3,
    d: { queuedIdle: 5, pilots: 5 },
    reqIdle: 2,
    reqMax: 20,
    type: "NO",
    excess: 0,
  },
  {
    name: "WAIT leaves registered idle pilots alone",
    policy: "WAIT",
    margin: 0,
    d: { idleSlots: 10, pilots: 10 },
    reqIdle: 0,
    reqMax: 0,
    type: "NO",
    excess: 0,
  },
  {
    name: "IDLE also removes registered idle pilots",
    policy: "IDLE",
    margin: 2,
    d: { idleSlots: 10, pilots: 10 },
    reqIdle: 0,
    reqMax: 20,
    type: "IDLE",
    excess: 8,
  },
  {
    name: "IDLE never removes running pilots",
    policy: "IDLE",
    margin: 0,
    d: { runningSlots: 30, pilots: 30 },
    reqIdle: 0,
    reqMax: 10,
    type: "NO",
    excess: 0,
  },
  {
    name: "ALL removes pilots beyond ReqMax + margin",
    policy: "ALL",
    margin: 5,
    d: { runningSlots: 20, pilots: 20 },
    reqIdle: 0,
    reqMax: 10,
    type: "ALL",
    excess: 5,
  },
  {
    name: "ALL sends a lesser level when only queued pilots are in excess",
    policy: "ALL",
    margin: 0,
    d: { queuedIdle: 4, runningSlots: 5, pilots: 9 },
    reqIdle: 1,
    reqMax: 20,
    type: "IDLE",
    excess: 3,
  },
  {
    name: "margin is sent with the request",
    policy: "IDLE",
    margin: 7,
    d: { idleSlots: 1, pilots: 1 },
    reqIdle: 0,
    reqMax: 0,
    type: "NO",
    excess: 0,
  },
];

for (const c of cases) {
  test(`ReqRemoveExcess: ${c.name}`, () => {
    const r = computeRemoval(demand(c.d), c.reqIdle, c.reqMax, {
      type: c.policy,
      margin: c.margin,
    });
    assert.equal(r.type, c.type);
    assert.equal(r.excess, c.excess);
    assert.equal(r.margin, c.margin);
  });
}
