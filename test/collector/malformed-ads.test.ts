import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { createPool, type Pool, type Running, slotAd, startCollector } from "./harness.js";

let pool: Pool;
let c: Running;

before(async () => {
  pool = createPool();
  c = await startCollector(
    pool,
    pool.config({ limits: { max_ad_bytes: 4096, max_attributes: 40 } }),
  );
});
after(async () => {
  await c.stop();
  pool.cleanup();
});

test("a bad ad is refused naming the attribute; the rest of the batch is kept", async () => {
  const outcomes = await c
    .as("pilot")
    .advertise([
      slotAd(1),
      slotAd(2, { Requirements: "Memory >= (1024" }),
      slotAd(3, { Big: JSON.stringify("x".repeat(5000)) }),
      slotAd(4),
      { MyType: '"Slot"', Cpus: "1" },
      slotAd(5, { "bad name": "1" }),
      { ...slotAd(6), ...Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`A${i}`, "1"])) },
      slotAd(7, { ClassAdLifetime: '"soon"' }),
      slotAd(8, { Empty: "" }),
    ]);
  const summary = outcomes.map((o) => [o.ok, o.attribute]);
  assert.deepEqual(summary, [
    [true, ""],
    [false, "Requirements"],
    [false, "Big"],
    [true, ""],
    [false, "Name"],
    [false, "bad name"],
    [false, "A31"],
    [false, "ClassAdLifetime"],
    [false, "Empty"],
  ]);
  for (const o of outcomes.filter((x) => !x.ok)) {
    assert.equal(o.code, "invalid-argument");
    assert.ok(o.message.includes(o.attribute), `message '${o.message}' names ${o.attribute}`);
  }
  assert.match(outcomes[2]!.message, /larger than 4096 bytes/);
  assert.match(outcomes[6]!.message, /more than 40 attributes/);
  const held = await c.as("reader").query({ type: "Slot", projection: ["Name"] });
  assert.deepEqual(held.map((a) => a.Name).sort(), [
    '"slot1@glidein_1@wn1.example.org"',
    '"slot1@glidein_4@wn4.example.org"',
  ]);
});

test("an ad without a type is refused unless the batch names one", async () => {
  const ad = { Name: '"untyped"' };
  const [refused] = await c.as("pilot").advertise([ad]);
  assert.deepEqual([refused!.ok, refused!.attribute], [false, "MyType"]);
  const [ok] = await c.as("pilot").advertise([ad], "Slot");
  assert.equal(ok!.ok, true);
});

test("a payload that is not an AdBatch fails the call with invalid-argument", async () => {
  const rpc = c.rpcs[0]!;
  await assert.rejects(rpc.call("collector.Advertise", Uint8Array.from([0x0a, 0x50, 0x01])), {
    code: "invalid-argument",
  });
});
