import assert from "node:assert/strict";
import { test } from "node:test";
import { DEFAULT_HEARTBEAT, heartbeatDelay } from "../../src/pilot/heartbeat-schedule.js";

test("heartbeat delay: a third of the lease left, within the floor and ceiling", () => {
  const cases: [number | undefined, number][] = [
    [90_000, 30_000],
    [20 * 60_000, 300_000], // the ceiling: a removal is noticed within 5 minutes
    [9_000, 5_000], // the floor
    [-1_000, 5_000], // already past its end (clock trouble): still the floor, not a busy loop
    [undefined, 60_000], // the schedd did not say: the fallback
    [Number.NaN, 60_000],
  ];
  for (const [left, want] of cases) {
    assert.equal(heartbeatDelay(left, DEFAULT_HEARTBEAT), want, `lease left ${left}`);
  }
  const custom = { fraction: 0.5, floorMs: 100, ceilingMs: 1_000, fallbackMs: 7 };
  assert.equal(heartbeatDelay(600, custom), 300);
  assert.equal(heartbeatDelay(undefined, custom), 7);
});
