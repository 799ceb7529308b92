import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { createPool, type Pool, type Running, slotAd, startCollector } from "./harness.js";

let pool: Pool;
let c: Running;

before(async () => {
  pool = createPool();
  c = await startCollector(
    pool,
    pool.config({ lifetime: { default_s: 900, per_type: { Slot: 300 } } }),
  );
});
after(async () => {
  await c.stop();
  pool.cleanup();
});

test("an advertised ad is stored with AuthenticatedIdentity, LastHeardFrom and MyType", async () => {
  const pilot = c.as("pilot");
  const [o] = await pilot.advertise([slotAd(1)]);
  assert.deepEqual({ ok: o!.ok, replaced: o!.replaced }, { ok: true, replaced: false });
  const [ad] = await c
    .as("reader")
    .query({ type: "Slot", constraint: 'Name == "slot1@glidein_1@wn1.example.org"' });
  assert.ok(ad);
  assert.equal(ad.AuthenticatedIdentity, '"/DC=org/DC=example/OU=Pilots/CN=pilot"');
  assert.equal(ad.LastHeardFrom, String(Math.floor(c.clock.now() / 1000)));
  assert.equal(ad.MyType, '"Slot"');
  assert.equal(ad.Start, "TARGET.RequestMemory <= MY.Memory");
});

test("the batch type becomes MyType of ads without one, and names are case-insensitive", async () => {
  const ad = slotAd(2);
  delete ad.MyType;
  const [first] = await c.as("pilot").advertise([ad], "Slot");
  assert.equal(first!.ok, true);
  const upper = { ...slotAd(2), Name: '"SLOT1@GLIDEIN_2@WN2.EXAMPLE.ORG"', Memory: "1" };
  const [second] = await c.as("pilot").advertise([upper]);
  assert.equal(second!.replaced, true);
  const found = await c.as("reader").query({ type: "slot", constraint: "Memory == 1" });
  assert.equal(found.length, 1);
});

test("re-advertising replaces the ad and moves LastHeardFrom", async () => {
  await c.as("pilot").advertise([slotAd(3, { State: '"Claimed"' })]);
  c.timers.advance(10_000);
  const [o] = await c.as("pilot").advertise([slotAd(3, { State: '"Unclaimed"' })]);
  assert.equal(o!.replaced, true);
  const [ad] = await c
    .as("reader")
    .query({ type: "Slot", constraint: 'Name == "slot1@glidein_3@wn3.example.org"' });
  assert.equal(ad!.State, '"Unclaimed"');
  assert.equal(ad!.LastHeardFrom, String(Math.floor(c.clock.now() / 1000)));
});

test("ads expire after their type's lifetime with no traffic; their own ClassAdLifetime wins", async () => {
  await c.as("pilot").advertise([slotAd(10), slotAd(11, { ClassAdLifetime: "1000" })]);
  const names = async () =>
    (
      await c
        .as("reader")
        .query({ type: "Slot", constraint: 'regexp("wn1[01]\\\\.", Name)', projection: ["Name"] })
    )
      .map((a) => a.Name)
      .sort();
  assert.equal((await names()).length, 2);
  c.timers.advance(299_000);
  assert.equal((await names()).length, 2);
  c.timers.advance(2_000);
  assert.deepEqual(await names(), ['"slot1@glidein_11@wn11.example.org"']);
  c.timers.advance(700_000);
  assert.deepEqual(await names(), []);
});

test("re-advertising before the deadline keeps an ad alive", async () => {
  await c.as("pilot").advertise([slotAd(20)]);
  for (let i = 0; i < 5; i++) {
    c.timers.advance(200_000);
    await c.as("pilot").advertise([slotAd(20)]);
  }
  const found = await c
    .as("reader")
    .query({ type: "Slot", constraint: 'Name == "slot1@glidein_20@wn20.example.org"' });
  assert.equal(found.length, 1);
});

test("the collector publishes its own ad with counts per type and update rates", async () => {
  c.timers.advance(60_000);
  const [self] = await c.as("reader").query({ type: "Collector" });
  assert.ok(self);
  assert.equal(self.Name, '"collector@test"');
  assert.match(self.SlotAds ?? "", /^\d+$/);
  assert.ok(Number(self.UpdatesTotal) >= 10);
  assert.ok("UpdatesPerSecond" in self && "UpdatesLastMinute" in self && "TotalAds" in self);
});
