import assert from "node:assert/strict";
import { test } from "node:test";
import { decide } from "../../src/factory/decide.js";
import type { RemoveExcess, TrackedPilot } from "../../src/factory/decide-types.js";
import { parseRemoveExcess } from "../../src/factory/remove-excess.js";
import { entry, pilots, request, snapshot } from "./decide-helpers.js";

interface Row {
  name: string;
  mode: RemoveExcess;
  reqIdle: number;
  reqMax?: number;
  margin?: number;
  queue: TrackedPilot[];
  /** Removals by reason. */
  expect: Record<string, number>;
}

const W = (n: number) => pilots(n, "Idle", { waiting: true });
const Q = (n: number) => pilots(n, "Idle");
const R = (n: number) => pilots(n, "Running");
const H = (n: number) => pilots(n, "Held");

const table: Row[] = [
  {
    name: "NO never removes",
    mode: "NO",
    reqIdle: 0,
    reqMax: 0,
    queue: [...W(3), ...Q(3), ...R(3)],
    expect: {},
  },
  {
    name: "WAIT removes excess waiting idle",
    mode: "WAIT",
    reqIdle: 2,
    queue: W(5),
    expect: { excess_waiting: 3 },
  },
  {
    name: "WAIT leaves idle queued at the site",
    mode: "WAIT",
    reqIdle: 0,
    queue: Q(5),
    expect: {},
  },
  { name: "WAIT within the request: nothing", mode: "WAIT", reqIdle: 5, queue: W(5), expect: {} },
  {
    name: "WAIT honours the margin",
    mode: "WAIT",
    reqIdle: 2,
    margin: 2,
    queue: W(5),
    expect: { excess_waiting: 1 },
  },
  {
    name: "WAIT margin covers all excess",
    mode: "WAIT",
    reqIdle: 2,
    margin: 3,
    queue: W(5),
    expect: {},
  },
  {
    name: "IDLE removes waiting first, only",
    mode: "IDLE",
    reqIdle: 0,
    queue: [...W(2), ...Q(3)],
    expect: { excess_waiting: 2 },
  },
  {
    name: "IDLE removes queued idle when none wait",
    mode: "IDLE",
    reqIdle: 1,
    queue: Q(4),
    expect: { excess_idle: 3 },
  },
  { name: "IDLE leaves running", mode: "IDLE", reqIdle: 0, reqMax: 0, queue: R(4), expect: {} },
  {
    name: "ALL removes idle first",
    mode: "ALL",
    reqIdle: 0,
    reqMax: 0,
    queue: [...Q(2), ...R(3)],
    expect: { excess_idle: 2 },
  },
  {
    name: "ALL removes running over the max, and held with them",
    mode: "ALL",
    reqIdle: 0,
    reqMax: 1,
    queue: [...R(4), ...H(2)],
    expect: { excess_running: 3, excess_held: 2 },
  },
  {
    name: "ALL within the max: nothing",
    mode: "ALL",
    reqIdle: 0,
    reqMax: 4,
    queue: R(4),
    expect: {},
  },
  {
    name: "ALL honours the margin on running",
    mode: "ALL",
    reqIdle: 0,
    reqMax: 1,
    margin: 1,
    queue: R(4),
    expect: { excess_running: 2 },
  },
  {
    name: "ALL with nothing wanted removes held",
    mode: "ALL",
    reqIdle: 0,
    reqMax: 0,
    queue: H(3),
    expect: { excess_held: 3 },
  },
  {
    name: "IDLE with nothing wanted keeps held",
    mode: "IDLE",
    reqIdle: 0,
    reqMax: 0,
    queue: H(3),
    expect: {},
  },
];

for (const row of table) {
  test(`remove: ${row.name}`, () => {
    const d = decide(
      snapshot({
        entries: [entry({ removeMargin: row.margin ?? 0 })],
        requests: [
          request({ removeExcess: row.mode, reqIdle: row.reqIdle, reqMax: row.reqMax ?? 100 }),
        ],
        pilots: row.queue,
      }),
    );
    const c = d.clients[0]!;
    const got: Record<string, number> = {};
    for (const r of c.remove) got[r.reason] = (got[r.reason] ?? 0) + 1;
    assert.deepEqual(got, row.expect);
    if (c.remove.length > 0) assert.equal(c.submit, 0);
  });
}

test("remove: the newest idle pilots go first", () => {
  const queue = Q(3);
  const d = decide(
    snapshot({ requests: [request({ removeExcess: "IDLE", reqIdle: 2 })], pilots: queue }),
  );
  assert.deepEqual(
    d.clients[0]!.remove.map((r) => r.pilotId),
    [queue[2]!.id],
  );
});

test("remove: the request's own margin wins over the entry's", () => {
  const d = decide(
    snapshot({
      entries: [entry({ removeMargin: 5 })],
      requests: [request({ removeExcess: "WAIT", reqIdle: 0, removeMargin: 1 })],
      pilots: W(3),
    }),
  );
  assert.equal(d.clients[0]!.remove.length, 2);
});

test("remove: unknown levels mean NO", () => {
  assert.equal(parseRemoveExcess("bogus"), "NO");
  assert.equal(parseRemoveExcess(undefined), "NO");
  assert.equal(parseRemoveExcess("all"), "ALL");
});
