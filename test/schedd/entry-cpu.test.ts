import assert from "node:assert/strict";
import { test } from "node:test";
import { chargeableCpu, EntryCpu, MAX_ENTRIES, OTHER_ENTRY } from "../../src/schedd/entry-cpu.js";

test("a run counts its reported CPU, bounded by wall time on its cores", () => {
  assert.equal(chargeableCpu(30, 5, 100, 1), 35);
  assert.equal(chargeableCpu(300, 0, 100, 2), 200);
  assert.equal(chargeableCpu(300, 0, 100, 0), 100);
  assert.equal(chargeableCpu(-1, Number.NaN, 100, 1), 0);
  assert.equal(chargeableCpu(Infinity, 0, 100, 1), 0);
  assert.equal(chargeableCpu(10, 0, Number.NaN, 1), 0);
});

test("entries past the bound are summed under _other", () => {
  const t = new EntryCpu();
  for (let i = 0; i < MAX_ENTRIES + 5; i++) t.charge(`e${i}`, 1);
  t.charge("e0", 2);
  t.charge("e1", 0);
  t.charge("e1", Number.NaN);
  assert.equal(t.entries.size, MAX_ENTRIES + 1);
  assert.equal(t.entries.get(OTHER_ENTRY), 5);
  assert.equal(t.entries.get("e0"), 3);
  assert.equal(t.entries.get("e1"), 1);
  const idle = new EntryCpu();
  idle.charge("sleepers", 0);
  assert.equal(idle.entries.get("sleepers"), 0, "an entry whose jobs used no CPU has goodput 0");
});
