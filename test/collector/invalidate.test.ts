import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { createPool, type Pool, type Running, slotAd, startCollector } from "./harness.js";

let pool: Pool;
let c: Running;

before(async () => {
  pool = createPool();
  c = await startCollector(pool);
});
after(async () => {
  await c.stop();
  pool.cleanup();
});

const count = async (constraint: string) =>
  (await c.as("reader").query({ type: "Slot", constraint })).length;

test("invalidate by type and name removes that ad only", async () => {
  await c.as("pilot").advertise([slotAd(1), slotAd(2)]);
  const r = await c
    .as("pilot")
    .invalidate({ type: "slot", name: "SLOT1@GLIDEIN_1@WN1.EXAMPLE.ORG" });
  assert.deepEqual(r, { removed: 1, refused: 0, message: "" });
  assert.equal(await count('Name == "slot1@glidein_1@wn1.example.org"'), 0);
  assert.equal(await count('Name == "slot1@glidein_2@wn2.example.org"'), 1);
  const again = await c
    .as("pilot")
    .invalidate({ type: "Slot", name: "slot1@glidein_1@wn1.example.org" });
  assert.equal(again.removed, 0, "invalidating an absent ad is not an error");
});

test("invalidate by constraint removes the caller's matching ads and counts others' as refused", async () => {
  await c.as("pilot").advertise([10, 11, 12].map((i) => slotAd(i, { Batch: '"b1"' })));
  await c.as("pilot2").advertise([13, 14].map((i) => slotAd(i, { Batch: '"b1"' })));
  const r = await c.as("pilot").invalidate({ type: "Slot", constraint: 'Batch == "b1"' });
  assert.equal(r.removed, 3);
  assert.equal(r.refused, 2);
  assert.match(r.message, /belongs to \/DC=org\/DC=example\/OU=Pilots\/CN=pilot2/);
  assert.equal(await count('Batch == "b1"'), 2);
});

test("an admin may invalidate anyone's ads, across types", async () => {
  await c.as("pilot2").advertise([slotAd(20, { Batch: '"b2"' })]);
  await c
    .as("factory")
    .advertise([{ MyType: '"GlideFactory"', Name: '"entry_b2"', Batch: '"b2"' }]);
  const r = await c.as("admin").invalidate({ constraint: 'Batch == "b2"' });
  assert.deepEqual(r, { removed: 2, refused: 0, message: "" });
});

test("invalidate needs a name or a constraint, and a type with a name", async () => {
  await assert.rejects(c.as("pilot").invalidate({}), { code: "invalid-argument" });
  await assert.rejects(c.as("pilot").invalidate({ name: "x" }), { code: "invalid-argument" });
  await assert.rejects(c.as("pilot").invalidate({ constraint: "Memory >" }), {
    code: "invalid-argument",
    message: /constraint/,
  });
});
