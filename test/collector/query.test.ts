import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { createPool, type Pool, type Running, slotAd, startCollector } from "./harness.js";

let pool: Pool;
let c: Running;

before(async () => {
  pool = createPool();
  c = await startCollector(pool);
  const ads = Array.from({ length: 60 }, (_, i) => slotAd(i));
  await c.as("pilot").advertise(ads);
  await c
    .as("factory")
    .advertise([{ MyType: '"GlideFactory"', Name: '"entry_a@factory"', GLIDEIN_Site: '"Site_0"' }]);
});
after(async () => {
  await c.stop();
  pool.cleanup();
});

test("a constraint selects ads, evaluated in each ad", async () => {
  const ads = await c
    .as("reader")
    .query({ type: "Slot", constraint: 'GLIDEIN_Site == "Site_1" && Cpus >= 2' });
  // i % 3 == 1 and 1 + i % 4 >= 2: 20 slots at Site_1, of which 15 have more than one cpu.
  assert.equal(ads.length, 15);
  for (const ad of ads) assert.equal(ad.GLIDEIN_Site, '"Site_1"');
});

test("projection returns only the named attributes, as sent, names case-insensitive", async () => {
  const ads = await c.as("reader").query({
    type: "Slot",
    constraint: 'Name == "slot1@glidein_4@wn4.example.org"',
    projection: ["name", "MEMORY", "Start", "NoSuchAttribute"],
  });
  assert.deepEqual(ads, [
    {
      Name: '"slot1@glidein_4@wn4.example.org"',
      Memory: "2048",
      Start: "TARGET.RequestMemory <= MY.Memory",
    },
  ]);
});

test("limit caps the number of ads", async () => {
  const ads = await c.as("reader").query({ type: "Slot", limit: 7, projection: ["Name"] });
  assert.equal(ads.length, 7);
});

test("an empty type queries every type; type names are case-insensitive", async () => {
  const any = await c
    .as("reader")
    .query({ constraint: 'GLIDEIN_Site == "Site_0"', projection: ["MyType"] });
  const types = new Set(any.map((a) => a.MyType));
  assert.deepEqual([...types].sort(), ['"GlideFactory"', '"Slot"']);
  const lower = await c.as("reader").query({ type: "glidefactory" });
  assert.equal(lower.length, 1);
});

test("constraints evaluating to undefined or error select nothing; bad syntax is invalid-argument", async () => {
  assert.equal(
    (await c.as("reader").query({ type: "Slot", constraint: "NoSuchAttr > 3" })).length,
    0,
  );
  assert.equal((await c.as("reader").query({ type: "Slot", constraint: '"x" + 1' })).length, 0);
  await assert.rejects(c.as("reader").query({ type: "Slot", constraint: "Cpus >" }), {
    code: "invalid-argument",
  });
});

test("a large answer arrives in several pages and nothing is lost", async () => {
  const big = "x".repeat(20_000);
  const ads = Array.from({ length: 40 }, (_, i) => slotAd(1000 + i, { Blob: JSON.stringify(big) }));
  await c.as("pilot").advertise(ads);
  const got = await c.as("reader").query({ type: "Slot", constraint: "Blob =!= undefined" });
  assert.equal(got.length, 40);
  assert.ok(got.every((a) => a.Blob === JSON.stringify(big)));
});
