import assert from "node:assert/strict";
import { test } from "node:test";
import { chargeableCpu, EntryCpu, MAX_ENTRIES, OTHER_ENTRY } from "../../src/schedd/entry-cpu.js";
import { claimedAttrs } from "../../src/schedd/transitions.js";

test("a run counts its reported CPU, bounded by wall time on its cores", () => {
  assert.equal(chargeableCpu(30, 5, 100, 1), 35);
  assert.equal(chargeableCpu(300, 0, 100, 2), 200);
  assert.equal(chargeableCpu(300, 0, 100, 0), 100);
  assert.equal(chargeableCpu(-1, Number.NaN, 100, 1), 0);
  assert.equal(chargeableCpu(Infinity, 0, 100, 1), 0);
  assert.equal(chargeableCpu(10, 0, Number.NaN, 1), 0);
});

const cpuOf = (t: EntryCpu, entry: string, factory?: string) =>
  [...t.entries].find((e) => e.entry === entry && e.factory === factory)?.cpuSeconds;

test("entries past the bound are summed under _other", () => {
  const t = new EntryCpu();
  for (let i = 0; i < MAX_ENTRIES + 5; i++) t.charge(`e${i}`, "f", 1);
  t.charge("e0", "f", 2);
  t.charge("e1", "f", 0);
  t.charge("e1", "f", Number.NaN);
  assert.equal([...t.entries].length, MAX_ENTRIES + 1);
  assert.equal(cpuOf(t, OTHER_ENTRY, OTHER_ENTRY), 5);
  assert.equal(cpuOf(t, "e0", "f"), 3);
  assert.equal(cpuOf(t, "e1", "f"), 1);
  const idle = new EntryCpu();
  idle.charge("sleepers", "f", 0);
  assert.equal(cpuOf(idle, "sleepers", "f"), 0, "an entry whose jobs used no CPU has goodput 0");
});

test("two factories' entries of one name are counted apart; a pilot without a factory too", () => {
  const t = new EntryCpu();
  t.charge("CE", "factory1", 10);
  t.charge("CE", "factory2", 20);
  t.charge("CE", undefined, 5);
  t.charge("CE", "factory1", 1);
  assert.deepEqual(
    [...t.entries].map((e) => ({ ...e })),
    [
      { entry: "CE", factory: "factory1", cpuSeconds: 11 },
      { entry: "CE", factory: "factory2", cpuSeconds: 20 },
      { entry: "CE", cpuSeconds: 5 },
    ],
  );
});

test("a claim records its pilot's factory on the job, and clears an earlier run's", () => {
  const info = { slotName: "slot1@glidein_1", entryAttr: "MATCH_GLIDEIN_Entry_Name" };
  const first = claimedAttrs(
    { JobStatus: "1" },
    { ...info, entryName: "CE", factoryName: "factory1" },
    1_000,
  );
  assert.equal(first.MATCH_GLIDEIN_Factory, '"factory1"');
  assert.equal(first.MATCH_GLIDEIN_Entry_Name, '"CE"');
  const second = claimedAttrs({ ...first, JobStatus: "1" }, { ...info, entryName: "CE" }, 2_000);
  assert.equal(second.MATCH_GLIDEIN_Factory, undefined);
});
