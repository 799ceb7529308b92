import assert from "node:assert/strict";
import { test } from "node:test";
import { ClassAd } from "../../src/classad/index.js";
import { factoryClientFromAd, slotRecordFromAd } from "../../src/frontend/snapshot-ads.js";

const NOW = 1_790_000_000;

function slot(extra: string): ClassAd {
  return ClassAd.parse(
    `[ GLIDECLIENT_Name = "fe.main"; GLIDEIN_Entry_Name = "ucsd"; GLIDEIN_Name = "gfactory";
       GLIDEIN_Factory = "osg"; Cpus = 6; Memory = 12000; State = "Unclaimed"; ${extra} ]`,
  );
}

test("a pilot's Slot ad becomes a slot record keyed by the GlideFactory ad name", () => {
  assert.deepEqual(slotRecordFromAd(slot(`GLIDEIN_ToRetire = ${NOW + 60}`), NOW), {
    group: "main",
    entry: "ucsd@gfactory@osg",
    state: "idle",
    cpus: 6,
    memory: 12000,
    retiring: false,
  });
});

test("an Updraft pilot's slot (no glidein name) is keyed as the factory names its entry", () => {
  const ad = ClassAd.parse(
    `[ GLIDECLIENT_Name = "fe.main"; GLIDEIN_Entry_Name = "ucsd"; GLIDEIN_Factory = "osg";
       Cpus = 2; Memory = 4000; State = "Claimed" ]`,
  );
  assert.equal(slotRecordFromAd(ad, NOW)?.entry, "ucsd@osg");
});

test("claimed slots and partitionable slots with children are busy; past ToRetire is retiring", () => {
  assert.equal(slotRecordFromAd(slot('State = "Claimed"'), NOW)?.state, "busy");
  assert.equal(slotRecordFromAd(slot("NumDynamicSlots = 2"), NOW)?.state, "busy");
  assert.equal(slotRecordFromAd(slot(`GLIDEIN_ToRetire = ${NOW - 1}`), NOW)?.retiring, true);
  assert.equal(slotRecordFromAd(slot('GLIDECLIENT_Group = "gpu"'), NOW)?.group, "gpu");
});

test("a slot that is not a frontend's pilot is left out", () => {
  assert.equal(slotRecordFromAd(ClassAd.parse("[ Cpus = 4; Memory = 100 ]"), NOW), null);
});

test("a GlideFactoryClient ad becomes this group's counts at the entry", () => {
  const ad = ClassAd.parse(`[ ReqClientName = "fe.main"; ReqGlidein = "ucsd@gfactory@osg";
    GlideinMonitorTotalStatusIdle = 4; GlideinMonitorTotalStatusRunning = 7;
    GlideinMonitorTotalStatusHeld = 1 ]`);
  assert.deepEqual(factoryClientFromAd(ad), {
    group: "main",
    entry: "ucsd@gfactory@osg",
    idle: 4,
    running: 7,
    held: 1,
  });
});

test("a job's dynamic slot is no pilot of its own: only its partitionable slot counts", () => {
  const child = slot('SlotType = "Dynamic"; DynamicSlot = true; State = "Claimed"; Cpus = 2');
  assert.equal(slotRecordFromAd(child, NOW), null);
  const parent = slot('SlotType = "Partitionable"; NumDynamicSlots = 1; Cpus = 4');
  assert.equal(slotRecordFromAd(parent, NOW)?.state, "busy");
});
