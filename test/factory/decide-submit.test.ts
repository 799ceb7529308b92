import assert from "node:assert/strict";
import { test } from "node:test";
import { decide } from "../../src/factory/decide.js";
import type { DecisionSnapshot, SubmitBound } from "../../src/factory/decide-types.js";
import { entry, NOW, pilots, request, snapshot } from "./decide-helpers.js";

interface Row {
  name: string;
  snap: Partial<DecisionSnapshot>;
  submit: number;
  boundBy: SubmitBound;
  hit?: SubmitBound[];
}

const table: Row[] = [
  { name: "empty queue: submit the request", snap: {}, submit: 10, boundBy: "requested", hit: [] },
  {
    name: "idle pilots count against the request",
    snap: { pilots: pilots(4, "Idle") },
    submit: 6,
    boundBy: "requested",
  },
  {
    name: "unsubmitted intents count as idle",
    snap: { pilots: [...pilots(3, "Unsubmitted"), ...pilots(2, "Idle")] },
    submit: 5,
    boundBy: "requested",
  },
  {
    name: "running pilots do not reduce the idle request",
    snap: { pilots: pilots(50, "Running") },
    submit: 10,
    boundBy: "requested",
  },
  {
    name: "finished, removed and lost pilots are not counted",
    snap: { pilots: [...pilots(5, "Finished"), ...pilots(5, "Removed"), ...pilots(5, "Lost")] },
    submit: 10,
    boundBy: "requested",
  },
  {
    name: "idle already above the request: nothing",
    snap: { pilots: pilots(12, "Idle") },
    submit: 0,
    boundBy: "requested",
    hit: [],
  },
  {
    name: "ReqMaxGlideins bounds idle+running+held",
    snap: { requests: [request({ reqMax: 20 })], pilots: pilots(15, "Running") },
    submit: 5,
    boundBy: "ReqMaxGlideins",
    hit: ["ReqMaxGlideins"],
  },
  {
    name: "entry max_glideins counts every client",
    snap: {
      entries: [entry({ perEntry: { maxGlideins: 8 } })],
      pilots: pilots(5, "Running", { client: "other" }),
    },
    submit: 3,
    boundBy: "entry.max_glideins",
  },
  {
    name: "entry max_idle",
    snap: {
      entries: [entry({ perEntry: { maxIdle: 4 } })],
      pilots: pilots(1, "Idle", { client: "other" }),
    },
    submit: 3,
    boundBy: "entry.max_idle",
  },
  {
    name: "entry max_held reached: nothing",
    snap: { entries: [entry({ perEntry: { maxHeld: 2 } })], pilots: pilots(2, "Held") },
    submit: 0,
    boundBy: "entry.max_held",
  },
  {
    name: "entry max_held not reached",
    snap: { entries: [entry({ perEntry: { maxHeld: 3 } })], pilots: pilots(2, "Held") },
    submit: 10,
    boundBy: "requested",
  },
  {
    name: "frontend max_glideins for its class",
    snap: {
      entries: [entry({ perFrontend: { main: { maxGlideins: 7 } } })],
      pilots: pilots(2, "Running"),
    },
    submit: 5,
    boundBy: "frontend.max_glideins",
  },
  {
    name: "frontend max_idle",
    snap: { entries: [entry({ perFrontend: { main: { maxIdle: 2 } } })] },
    submit: 2,
    boundBy: "frontend.max_idle",
  },
  {
    name: "frontend max_held",
    snap: {
      entries: [entry({ perFrontend: { main: { maxHeld: 1 } } })],
      pilots: pilots(1, "Held"),
    },
    submit: 0,
    boundBy: "frontend.max_held",
  },
  {
    name: "the default frontend limit applies to unlisted classes",
    snap: { entries: [entry({ perFrontend: { default: { maxIdle: 3 } } })] },
    submit: 3,
    boundBy: "frontend.max_idle",
  },
  {
    name: "other classes' pilots do not count against this class",
    snap: {
      entries: [entry({ perFrontend: { main: { maxIdle: 5 } } })],
      pilots: pilots(5, "Idle", { client: "c2", securityClass: "other" }),
    },
    submit: 5,
    boundBy: "frontend.max_idle",
  },
  {
    name: "max_per_cycle",
    snap: { entries: [entry({ maxPerCycle: 4 })] },
    submit: 4,
    boundBy: "max_per_cycle",
    hit: ["max_per_cycle"],
  },
  {
    name: "several limits tied are all reported",
    snap: { entries: [entry({ maxPerCycle: 4, perEntry: { maxIdle: 4 } })] },
    submit: 4,
    boundBy: "entry.max_idle",
    hit: ["entry.max_idle", "max_per_cycle"],
  },
  {
    name: "limit exceeded already gives zero, not negative",
    snap: { entries: [entry({ perEntry: { maxGlideins: 3 } })], pilots: pilots(5, "Running") },
    submit: 0,
    boundBy: "entry.max_glideins",
  },
  {
    name: "downtime for the entry: nothing",
    snap: { downtimes: [{ entry: "e1", start: NOW - 1 }] },
    submit: 0,
    boundBy: "downtime",
  },
  {
    name: "downtime for all entries",
    snap: { downtimes: [{ entry: "all", start: NOW - 1, end: NOW + 1 }] },
    submit: 0,
    boundBy: "downtime",
  },
  {
    name: "downtime over",
    snap: { downtimes: [{ entry: "e1", start: NOW - 10, end: NOW }] },
    submit: 10,
    boundBy: "requested",
  },
  {
    name: "downtime not started",
    snap: { downtimes: [{ entry: "e1", start: NOW + 10 }] },
    submit: 10,
    boundBy: "requested",
  },
  {
    name: "downtime for another frontend",
    snap: { downtimes: [{ entry: "e1", frontend: "someone-else", start: NOW - 1 }] },
    submit: 10,
    boundBy: "requested",
  },
  {
    name: "downtime for this frontend",
    snap: { downtimes: [{ entry: "e1", frontend: "fe", start: NOW - 1 }] },
    submit: 0,
    boundBy: "downtime",
  },
];

for (const row of table) {
  test(`submit: ${row.name}`, () => {
    const d = decide(snapshot(row.snap));
    assert.equal(d.refused.length, 0);
    const c = d.clients[0]!;
    assert.equal(c.submit, row.submit);
    assert.equal(c.boundBy, row.boundBy);
    if (row.hit) assert.deepEqual(c.limitsHit, row.hit);
  });
}

test("submit: shared entry limits are split between clients in a stable order", () => {
  const d = decide(
    snapshot({
      entries: [entry({ perEntry: { maxIdle: 15 } })],
      requests: [request({ client: "c2" }), request({ client: "c1" })],
    }),
  );
  assert.deepEqual(
    d.clients.map((c) => [c.client, c.submit, c.boundBy]),
    [
      ["c1", 10, "requested"],
      ["c2", 5, "entry.max_idle"],
    ],
  );
});

test("submit: counts are reported per client", () => {
  const d = decide(
    snapshot({ pilots: [...pilots(2, "Idle"), ...pilots(3, "Running"), ...pilots(1, "Held")] }),
  );
  assert.deepEqual(d.clients[0]!.counts, { idle: 2, running: 3, held: 1 });
});
