import assert from "node:assert/strict";
import { test } from "node:test";
import { slotLeftAfter } from "../../src/schedd/slot-left.js";

const slot = { Name: '"slot1@a"', Cpus: "4", Memory: "8000", Disk: "1000000", GPUs: "2" };

test("a job's requests come out of the slot, HTCondor's defaults for those it leaves out", () => {
  const left = slotLeftAfter(slot, { RequestCpus: "2", RequestMemory: "3000", RequestGPUs: "1" });
  assert.deepEqual(left, {
    Name: '"slot1@a"',
    Cpus: "2",
    Memory: "5000",
    Disk: "1000000",
    GPUs: "1",
  });
  // No requests: one CPU and 128 MB.
  assert.deepEqual(slotLeftAfter(slot, {}), { ...slot, Cpus: "3", Memory: "7872" });
  // Memory never goes below nothing; the next job simply no longer matches.
  assert.equal(slotLeftAfter(slot, { RequestMemory: "9000" })?.Memory, "0");
});

test("nothing is left to match when no CPU remains or the slot's amounts are not plain numbers", () => {
  assert.equal(slotLeftAfter(slot, { RequestCpus: "4" }), undefined);
  assert.equal(slotLeftAfter({ ...slot, Cpus: "TotalCpus - 1" }, {}), undefined);
  assert.equal(slotLeftAfter({ ...slot, Memory: "undefined" }, {}), undefined);
  // A hostile request cannot grow the slot: at least one CPU and no negative memory are taken.
  assert.deepEqual(slotLeftAfter(slot, { RequestCpus: "-8", RequestMemory: "-100000" }), {
    ...slot,
    Cpus: "3",
  });
});
