import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import {
  AD_TYPE,
  type CollectorAd,
  collectorAdCount,
  type GlideFactoryAd,
  type GlideResourceAd,
  readCollector,
  readGlideFactory,
  readGlideResource,
  readScheduler,
  readSlot,
  type SchedulerAd,
  type SlotAd,
  writeCollector,
  writeGlideFactory,
  writeGlideResource,
  writeScheduler,
  writeSlot,
} from "../../src/ads/index.js";
import { ClassAd } from "../../src/classad/index.js";

/** fast-check builds null-prototype objects; compare contents only. */
function plain(x: object): unknown {
  return JSON.parse(JSON.stringify(x));
}

/** Through the wire's text form, as the collector passes ads on. */
function viaWire(ad: ClassAd): ClassAd {
  return ClassAd.fromJSON(ad.toJSON());
}

/** Only the fields of `keys` from a read record (readers add fields the writer does not take). */
function pick(r: object, keys: string[]): unknown {
  return plain(Object.fromEntries(Object.entries(r).filter(([k]) => keys.includes(k))));
}

const text = fc.string({ maxLength: 30 });
const count = fc.integer({ min: 0, max: 1_000_000 });
const seconds = fc.integer({ min: 0, max: 4_000_000_000 });
// ClassAd attribute names ignore case: one spelling per name.
const suffix = fc.stringMatching(/^[a-z][a-z0-9_]{0,12}$/);

test("GlideFactory: write, then read through the wire's text form, gives the same record", () => {
  const record = fc.record(
    {
      name: text,
      entryName: text,
      factoryName: text,
      gridType: text,
      gatekeeper: text,
      inDowntime: fc.boolean(),
      pubKeyType: text,
      pubKeyValue: text,
      pubKeyId: text,
      totalIdle: count,
      totalRunning: count,
      totalHeld: count,
      lifetimeS: count,
      submitFailures: count,
      submitBackoffUntilS: seconds,
      submitLastError: fc.string({ minLength: 1, maxLength: 30 }),
      validationFailures: count,
      validationBackoffUntilS: seconds,
      validationLastFailure: fc.string({ minLength: 1, maxLength: 30 }),
    },
    {
      requiredKeys: [
        "name",
        "entryName",
        "factoryName",
        "gridType",
        "gatekeeper",
        "inDowntime",
        "pubKeyType",
        "pubKeyValue",
        "pubKeyId",
        "totalIdle",
        "totalRunning",
        "totalHeld",
        "lifetimeS",
        "submitFailures",
        "submitBackoffUntilS",
        "validationFailures",
        "validationBackoffUntilS",
      ],
    },
  );
  fc.assert(
    fc.property(record, (r: GlideFactoryAd) => {
      const ad = viaWire(writeGlideFactory(r));
      assert.equal(ad.getString("MyType"), AD_TYPE.GlideFactory);
      assert.deepEqual(pick(readGlideFactory(ad), Object.keys(r)), plain(r));
    }),
  );
});

test("GlideFactory reader: the entry's published attributes, and nothing coerced", () => {
  const r = readGlideFactory(
    ClassAd.parse(`[ Name = "e@f"; GLIDEIN_In_Downtime = "true"; GLIDEIN_CPUS = 8;
       GLIDEIN_TrustDomain = "osg"; GLIDEIN_Site = "S"; PubKeyValue = 3;
       AuthenticatedIdentity = "/CN=f" ]`),
  );
  assert.equal(r.name, "e@f");
  assert.equal(r.inDowntime, undefined);
  assert.equal(r.pubKeyValue, undefined);
  assert.equal(r.glideinCpus, 8);
  assert.equal(r.trustDomain, "osg");
  assert.equal(r.site, "S");
  assert.equal(r.authenticatedIdentity, "/CN=f");
});

test("GlideResource: write, then read, gives the same record", () => {
  const record = fc.record({
    name: text,
    glideClientName: text,
    frontendName: text,
    groupName: text,
    glideFactoryEntry: text,
    inDowntime: fc.boolean(),
    jobsIdle: count,
    jobsIdleMatching: count,
    jobsIdleEffective: count,
    jobsIdleUnique: count,
    glideinsIdle: count,
    glideinsRunning: count,
    glideinsHeld: count,
    glideinsTotal: count,
    glideinsRequestIdle: count,
    glideinsRequestMaxRun: count,
    limitsTriggered: text,
    limits: fc.dictionary(suffix, text, { maxKeys: 4 }),
    curbs: fc.dictionary(suffix, text, { maxKeys: 4 }),
    matchErrors: count,
    matchExpr: text,
  });
  fc.assert(
    fc.property(record, fc.boolean(), (full, withErrors) => {
      const r: GlideResourceAd = withErrors ? full : { ...full, matchErrors: undefined };
      const ad = viaWire(writeGlideResource(r));
      assert.equal(ad.getString("MyType"), AD_TYPE.GlideResource);
      assert.equal(ad.has("GlideClientMatchErrors"), withErrors);
      const { lastHeardFrom, authenticatedIdentity, ...back } = readGlideResource(ad);
      assert.equal(lastHeardFrom, undefined);
      assert.equal(authenticatedIdentity, undefined);
      assert.deepEqual(plain(back), plain(r));
    }),
  );
});

const slotRecord = fc.record({
  name: text,
  machine: text,
  pilotId: text,
  cpus: count,
  memoryMb: count,
  diskKb: count,
  gpus: count,
  totalCpus: count,
  totalMemoryMb: count,
  totalDiskKb: count,
  totalGpus: count,
  numDynamicSlots: count,
  state: text,
  activity: text,
  toRetireS: seconds,
  toDieS: seconds,
  daemonStartTimeS: seconds,
  myCurrentTimeS: seconds,
  timeToLiveS: count,
  start: fc.constantFrom("true", "false", 'TARGET.Owner == "alice"', "RequestCpus <= 2"),
});

test("Slot: write, then read, gives the same record; START is the given expression", () => {
  fc.assert(
    fc.property(slotRecord, (r: SlotAd) => {
      const ad = viaWire(writeSlot(r));
      assert.equal(ad.getString("MyType"), AD_TYPE.Slot);
      assert.equal(ad.getString("SlotType"), "Partitionable");
      assert.equal(ad.getNumber("TotalSlotCpus"), r.totalCpus);
      assert.equal(ad.toJSON().Requirements, "START");
      const back = readSlot(ad);
      const { start, ...rest } = r;
      assert.deepEqual(pick(back, Object.keys(rest)), plain(rest));
      const job = ClassAd.parse('[ Owner = "alice"; RequestCpus = 1 ]');
      const expected = ClassAd.parse(`[ S = ${start} ]`).evaluateExpr("S", job);
      assert.deepEqual(ad.evaluateExpr("Requirements", job), expected);
    }),
  );
});

test("Slot: published attributes are kept, but never over the slot's own accounting", () => {
  const r = fc.sample(slotRecord, 1)[0]!;
  const ad = viaWire(
    writeSlot(
      { ...r, cpus: 2, state: "Unclaimed" },
      { GLIDEIN_Site: "Site_A", Cpus: 99, state: "Claimed", GLIDECLIENT_Name: "fe.main" },
    ),
  );
  const back = readSlot(ad);
  assert.equal(back.cpus, 2);
  assert.equal(back.state, "Unclaimed");
  assert.equal(back.site, "Site_A");
  assert.equal(back.clientName, "fe.main");
  assert.equal(back.entryName, undefined);
  assert.equal(back.isBlackHole, undefined, "no attribute while detection is off");
  const hole = readSlot(viaWire(writeSlot({ ...r, blackHole: "10 jobs in 60 s" })));
  assert.equal(hole.isBlackHole, true);
  assert.equal(hole.blackHoleReason, "10 jobs in 60 s");
  const fine = readSlot(viaWire(writeSlot({ ...r, blackHole: false })));
  assert.equal(fine.isBlackHole, false);
  assert.equal(fine.blackHoleReason, undefined);
});

test("Scheduler: write, then read, gives the same record with its submitters", () => {
  const submitter = fc.record({
    name: text,
    idleJobs: count,
    runningJobs: count,
    heldJobs: count,
  });
  const record = fc.record({
    name: text,
    address: text,
    daemonStartTimeS: seconds,
    lastHeardFromS: seconds,
    totalIdleJobs: count,
    totalRunningJobs: count,
    totalHeldJobs: count,
    submitters: fc.array(submitter, { maxLength: 4 }),
  });
  fc.assert(
    fc.property(record, (r: SchedulerAd) => {
      const ad = viaWire(writeScheduler(r));
      assert.equal(ad.getString("MyType"), AD_TYPE.Scheduler);
      assert.equal(ad.getString("ScheddIpAddr"), r.address);
      const { numUsers, ...back } = readScheduler(ad);
      assert.equal(numUsers, r.submitters.length);
      assert.deepEqual(plain(back), plain(r));
    }),
  );
});

test("Scheduler reader: malformed submitters are skipped, a missing list is undefined", () => {
  const ad = ClassAd.parse(`[ Name = "s"; MyAddress = "wss://s:1";
    Submitters = { [ Name = "a"; IdleJobs = 1; RunningJobs = 0; HeldJobs = 0 ],
                   [ Name = 3; IdleJobs = 1; RunningJobs = 0; HeldJobs = 0 ],
                   [ Name = "c"; IdleJobs = "1"; RunningJobs = 0; HeldJobs = 0 ] } ]`);
  assert.deepEqual(readScheduler(ad).submitters, [
    { name: "a", idleJobs: 1, runningJobs: 0, heldJobs: 0 },
  ]);
  const old = readScheduler(ClassAd.parse('[ ScheddIpAddr = "wss://s:2"; TotalIdleJobs = 2.5 ]'));
  assert.equal(old.address, "wss://s:2");
  assert.equal(old.totalIdleJobs, undefined);
  assert.equal(old.submitters, undefined);
});

test("Collector: write, then read, gives the same record and the counts by type", () => {
  const record = fc.record({
    name: text,
    daemonStartTimeS: seconds,
    updatesTotal: count,
    updatesLastMinute: count,
    // Written with three decimals.
    updatesPerSecond: count.map((n) => n / 1000),
    lifetimeS: count,
    adsByType: fc.dictionary(fc.constantFrom("Slot", "Scheduler", "GlideFactory"), count),
  });
  fc.assert(
    fc.property(record, (r: CollectorAd) => {
      const ad = viaWire(writeCollector(r));
      assert.equal(ad.getString("MyType"), AD_TYPE.Collector);
      const { totalAds, ...back } = readCollector(ad);
      const { adsByType, ...rest } = r;
      assert.deepEqual(plain(back), plain(rest));
      const counts = Object.values(adsByType);
      assert.equal(
        totalAds,
        counts.reduce((a, b) => a + b, 0),
      );
      for (const [type, n] of Object.entries(adsByType)) {
        assert.equal(collectorAdCount(ad, type), n);
      }
      assert.equal(collectorAdCount(ad, "GlideClient"), adsByType.GlideClient);
    }),
  );
});
