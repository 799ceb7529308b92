import assert from "node:assert/strict";
import { test } from "node:test";
import { ClassAd, symmetricMatch } from "../../src/classad/index.js";
import { createResourceLedger } from "../../src/pilot/ledger.js";
import { planLifetime } from "../../src/pilot/lifetime.js";
import { buildSlotAd } from "../../src/pilot/slot-ad.js";

const total = { cpus: 8, memoryMb: 16000, diskKb: 100_000_000, gpus: 1 };
const req = (cpus: number, memoryMb: number, gpus = 0) => ({ cpus, memoryMb, diskKb: 1000, gpus });

test("the ledger splits resources and refuses what is not left", () => {
  const l = createResourceLedger(total);
  assert.deepEqual(l.reserve("a", req(4, 8000)), { ok: true });
  assert.deepEqual(l.reserve("a", req(1, 1)), { ok: false, reason: "duplicate", short: [] });
  assert.deepEqual(l.reserve("b", req(4, 4000, 1)), { ok: true });
  assert.deepEqual(l.reserve("c", req(1, 100)), {
    ok: false,
    reason: "insufficient",
    short: ["cpus"],
  });
  assert.deepEqual(l.remaining(), { cpus: 0, memoryMb: 4000, diskKb: 100_000_000 - 2000, gpus: 0 });
  assert.equal(l.release("a"), true);
  assert.equal(l.release("a"), false);
  assert.deepEqual(l.holders(), ["b"]);
  assert.equal(l.remaining().cpus, 4);
});

function ad(remaining = total, retired = false) {
  return buildSlotAd({
    id: { pilotId: "p42", host: "wn01.example.org" },
    nodeAttrs: { OpSys: "LINUX", OpSysAndVer: "AlmaLinux9", Arch: "X86_64", HAS_SINGULARITY: true },
    published: { GLIDEIN_Site: "UCSD", GLIDEIN_Entry_Name: "ucsd_ce1", Cpus: 999 },
    total,
    remaining,
    start: 'TARGET.Owner =!= "mallory"',
    plan: planLifetime({ maxWalltimeS: 3600 }, Date.UTC(2026, 0, 1), () => 0),
    retired,
    runningJobs: remaining === total ? 0 : 1,
    nowMs: Date.UTC(2026, 0, 1),
  });
}

test("the slot ad names and sizes the partitionable slot", () => {
  const a = ad();
  assert.equal(a.evaluate("Name"), "slot1@p42@wn01.example.org");
  assert.equal(a.evaluate("MyType"), "Slot");
  assert.equal(a.evaluate("Cpus"), 8, "slot accounting wins over a published attribute");
  assert.equal(a.evaluate("PartitionableSlot"), true);
  assert.equal(a.evaluate("GLIDEIN_Site"), "UCSD");
  assert.equal(a.evaluate("GLIDEIN_ToDie"), Date.UTC(2026, 0, 1) / 1000 + 3600);
  assert.equal(a.evaluate("State"), "Unclaimed");
  assert.equal(ClassAd.parse(a.toString()).evaluate("OpSysAndVer"), "AlmaLinux9");
});

test("matching sees remaining resources, START and retirement", () => {
  const job = ClassAd.parse(
    '[ Owner = "alice"; RequestCpus = 4; RequestMemory = 4000; ' +
      "Requirements = TARGET.Cpus >= RequestCpus && TARGET.Memory >= RequestMemory && " +
      'TARGET.OpSysAndVer == "AlmaLinux9" ]',
  );
  assert.equal(symmetricMatch(job, ad()), true);
  const l = createResourceLedger(total);
  l.reserve("x", req(6, 1000));
  assert.equal(symmetricMatch(job, ad(l.remaining())), false);
  assert.equal(symmetricMatch(job, ad(total, true)), false);
  const mallory = ClassAd.parse('[ Owner = "mallory"; Requirements = true ]');
  assert.equal(symmetricMatch(mallory, ad()), false);
});
