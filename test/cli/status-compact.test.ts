/**
 * A pilot running jobs is one partitionable slot plus a dynamic slot per job, as HTCondor's
 * startd advertises them: `status -compact` and `status -total` count its CPUs once and each job
 * once, as condor_status does.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { formatCompact } from "../../src/cli/status-compact.js";
import { formatTotals } from "../../src/cli/status-format.js";

const common = {
  MyType: '"Slot"',
  Machine: '"wn01.example.org"',
  GLIDEIN_Site: '"Site_A"',
  Arch: '"X86_64"',
  OpSys: '"LINUX"',
  TotalCpus: "4",
};
const pilot = {
  ...common,
  Name: '"slot1@p1@wn01.example.org"',
  SlotType: '"Partitionable"',
  PartitionableSlot: "true",
  Cpus: "1",
  Memory: "1000",
  TotalSlotCpus: "4",
  TotalSlotMemory: "8000",
  NumDynamicSlots: "2",
  State: '"Unclaimed"',
  Activity: '"Idle"',
};
const job = (n: number, cpus: number, memory: number) => ({
  ...common,
  Name: `"slot1_${n}@p1@wn01.example.org"`,
  SlotType: '"Dynamic"',
  DynamicSlot: "true",
  PartitionableSlot: "false",
  Cpus: String(cpus),
  Memory: String(memory),
  TotalSlotCpus: String(cpus),
  TotalSlotMemory: String(memory),
  State: '"Claimed"',
  Activity: '"Busy"',
});
const ads = [pilot, job(1, 2, 4000), job(2, 1, 3000)];

test("-compact: one machine row with the pilot's CPUs once; the summary counts each job", () => {
  const out = formatCompact(ads);
  const row = out.split("\n").find((l) => l.startsWith("wn01.example.org"));
  assert.ok(row, out);
  // Slots (dynamic, partitionable), Cpus, Gpus, TotalGb, FreCpu, FreeGb, load, code.
  assert.match(row, /\s2P\s+4\s+0\s+7\.81\s+1\s+0\.98\s+_\s+Cb\s/);
  const total = out.split("\n").find((l) => /^\s*Total\s+\d/.test(l));
  // Total Owner Claimed Unclaimed ...: three slots, two claimed (the jobs), one unclaimed.
  assert.match(total!, /Total\s+3\s+0\s+2\s+1\s+0\s+0\s+0$/);
});

test("-total: CPUs add up to the pilot's; claimed slots are the jobs", () => {
  const out = formatTotals(ads);
  const total = out.split("\n").find((l) => l.startsWith("Total"));
  assert.match(total!, /^Total\s+3\s+4\s+8000\s+2\s+1$/);
});
