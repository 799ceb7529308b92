import assert from "node:assert/strict";
import { test } from "node:test";
import { ClassAd, symmetricMatch } from "../../src/classad/index.js";
import { createResourceLedger } from "../../src/pilot/ledger.js";
import { planLifetime } from "../../src/pilot/lifetime.js";
import { buildDynamicSlotAds, buildSlotAd, type SlotJob } from "../../src/pilot/slot-ad.js";

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

const T0 = Date.UTC(2026, 0, 1);

function input(remaining = total, retired = false, jobs: SlotJob[] = []) {
  return {
    id: { pilotId: "p42", host: "wn01.example.org" },
    nodeAttrs: { OpSys: "LINUX", OpSysAndVer: "AlmaLinux9", Arch: "X86_64", HAS_SINGULARITY: true },
    published: { GLIDEIN_Site: "UCSD", GLIDEIN_Entry_Name: "ucsd_ce1", Cpus: 999 },
    total,
    remaining,
    start: 'TARGET.Owner =!= "mallory"',
    plan: planLifetime({ maxWalltimeS: 3600 }, Date.UTC(2026, 0, 1), () => 0),
    retired,
    jobs,
    nowMs: T0,
  };
}

const ad = (remaining = total, retired = false) => buildSlotAd(input(remaining, retired));

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

const JOBS: SlotJob[] = [
  { n: 3, jobId: "17.0", owner: "alice@example.org", resources: req(4, 8000, 1), claimedMs: T0 },
  { n: 5, jobId: "18.2", owner: "bob@example.org", resources: req(2, 2000), claimedMs: T0 + 9000 },
];

test("each running job is a dynamic slot slot1_N, as HTCondor's startd shows one", () => {
  const left = { cpus: 2, memoryMb: 6000, diskKb: 100_000_000 - 2000, gpus: 0 };
  const dyn = buildDynamicSlotAds(input(left, false, JOBS));
  assert.equal(dyn.length, 2);
  const [a, b] = dyn;
  assert.equal(a!.evaluate("Name"), "slot1_3@p42@wn01.example.org");
  assert.equal(b!.evaluate("Name"), "slot1_5@p42@wn01.example.org");
  for (const [d, job, owner, cpus, mem] of [
    [a!, "17.0", "alice@example.org", 4, 8000],
    [b!, "18.2", "bob@example.org", 2, 2000],
  ] as const) {
    assert.equal(d.evaluate("SlotType"), "Dynamic");
    assert.equal(d.evaluate("DynamicSlot"), true);
    assert.equal(d.evaluate("PartitionableSlot"), false);
    assert.equal(d.evaluate("SlotID"), 1);
    assert.equal(d.evaluate("JobId"), job);
    assert.equal(d.evaluate("RemoteOwner"), owner);
    assert.equal(d.evaluate("Cpus"), cpus);
    assert.equal(d.evaluate("Memory"), mem);
    assert.equal(d.evaluate("TotalSlotCpus"), cpus);
    assert.equal(d.evaluate("TotalCpus"), 8, "the machine's total, as HTCondor's");
    assert.equal(d.evaluate("State"), "Claimed");
    assert.equal(d.evaluate("Activity"), "Busy");
    assert.equal(d.evaluate("START"), false, "a dynamic slot takes no job of its own");
    assert.equal(d.evaluate("GLIDEIN_Site"), "UCSD", "published attributes as on the parent");
    assert.equal(d.has("NumDynamicSlots"), false);
  }
  assert.equal(a!.evaluate("GPUs"), 1);
  assert.equal(b!.evaluate("EnteredCurrentActivity"), T0 / 1000 + 9);
  const job = ClassAd.parse("[ RequestCpus = 1; Requirements = true ]");
  assert.equal(symmetricMatch(job, a!), false, "no schedd matches a job to a dynamic slot");
});

test("the partitionable slot shows what is left and rolls its children up", () => {
  const left = { cpus: 2, memoryMb: 6000, diskKb: 100_000_000 - 2000, gpus: 0 };
  const p = buildSlotAd(input(left, false, JOBS));
  assert.equal(p.evaluate("SlotType"), "Partitionable");
  assert.equal(p.evaluate("Cpus"), 2);
  assert.equal(p.evaluate("TotalSlotCpus"), 8);
  assert.equal(p.evaluate("NumDynamicSlots"), 2);
  // As HTCondor's: a partitionable slot stays Unclaimed/Idle; its children are the claims.
  assert.equal(p.evaluate("State"), "Unclaimed");
  assert.equal(p.evaluate("Activity"), "Idle");
  const back = ClassAd.parse(p.toString());
  assert.deepEqual(back.getStringList("ChildName"), [
    "slot1_3@p42@wn01.example.org",
    "slot1_5@p42@wn01.example.org",
  ]);
  assert.deepEqual(back.getStringList("ChildRemoteOwner"), [
    "alice@example.org",
    "bob@example.org",
  ]);
  assert.deepEqual(back.getStringList("ChildState"), ["Claimed", "Claimed"]);
  back.set("UsedCpus", "sum(ChildCpus)").set("UsedMemory", "sum(ChildMemory)");
  assert.equal(back.evaluate("UsedCpus"), 6);
  assert.equal(back.evaluate("UsedMemory"), 10000);
  assert.equal(buildSlotAd(input(total, true, JOBS)).evaluate("State"), "Drained");
});

test("AssignedGPUs: each dynamic slot names its job's GPUs, the parent those left", () => {
  const jobs = [{ ...JOBS[0]!, gpuNames: ["CUDA2"] }, JOBS[1]!];
  const base = { ...input(total, false, jobs), freeGpuNames: ["CUDA0", "CUDA1"] };
  const node = { ...base, nodeAttrs: { ...base.nodeAttrs, AssignedGPUs: "CUDA0,CUDA1,CUDA2" } };
  assert.equal(buildSlotAd(node).evaluate("AssignedGPUs"), "CUDA0,CUDA1");
  const [a, b] = buildDynamicSlotAds(node);
  assert.equal(a!.evaluate("AssignedGPUs"), "CUDA2");
  assert.equal(b!.has("AssignedGPUs"), false, "a job without GPUs names none of the node's");
  const allHeld = buildSlotAd({ ...node, freeGpuNames: [] });
  assert.equal(allHeld.has("AssignedGPUs"), false);
});
