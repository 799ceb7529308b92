/** CycleCache keeps what the current or the last cycle touched and drops the rest. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { CycleCache } from "../../src/common/cycle-cache.js";

test("an entry lives while a cycle touches it and goes after a whole cycle without", () => {
  const c = new CycleCache<number>();
  c.set("a", 1);
  c.set("b", 2);
  assert.equal(c.get("a"), 1);
  c.endCycle();
  // Both were touched in the cycle that ended: both are still here.
  assert.deepEqual(c.values().sort(), [1, 2]);
  assert.equal(c.get("a"), 1, "read in this cycle");
  c.set("c", 3);
  c.endCycle();
  // b was not touched in the cycle that ended: gone.
  assert.equal(c.get("b"), undefined);
  assert.deepEqual(c.values().sort(), [1, 3]);
  c.set("a", 10);
  c.endCycle();
  assert.equal(c.get("a"), 10, "set replaces the value and counts as a touch");
  assert.equal(c.get("c"), undefined);
  c.endCycle();
  c.endCycle();
  assert.deepEqual(c.values(), [], "a whole cycle untouched: nothing left");
});
