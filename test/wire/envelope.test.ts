import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { test } from "node:test";
import { decodeEnvelope, encodeEnvelope, type Envelope } from "../../src/wire/envelope.js";
import { messageCodec, type WireClassAd } from "../../src/wire/schema.js";

const samples: Envelope[] = [
  {
    id: 1,
    kind: "request",
    method: "collector.Query",
    payload: Buffer.from("q"),
    deadlineMs: 5000,
  },
  { id: 2 ** 40, kind: "response", payload: Buffer.from("r") },
  { id: 3, kind: "item", payload: new Uint8Array(0) },
  { id: 4, kind: "end" },
  { id: 5, kind: "cancel" },
  { id: 6, kind: "error", code: "not-found", message: "no such ad", details: { name: "x" } },
];

test("every envelope kind round-trips", () => {
  for (const env of samples) {
    const r = decodeEnvelope(encodeEnvelope(env));
    assert.ok(r.ok, JSON.stringify(env));
    const got = r.envelope as Record<string, unknown>;
    for (const [k, v] of Object.entries(env)) {
      assert.deepEqual(
        v instanceof Uint8Array ? Buffer.from(got[k] as Uint8Array) : got[k],
        v instanceof Uint8Array ? Buffer.from(v) : v,
      );
    }
  }
});

test("an envelope without a body is refused", () => {
  const r = decodeEnvelope(new Uint8Array(0));
  assert.equal(r.ok, false);
});

test("garbage never throws", () => {
  let refused = 0;
  for (let i = 0; i < 1000; i++) if (!decodeEnvelope(randomBytes(1 + (i % 40))).ok) refused++;
  assert.ok(refused > 900);
});

test("ClassAd payloads keep their expression text", () => {
  const codec = messageCodec<WireClassAd>("ClassAd");
  const ad = { attrs: { MyType: '"Slot"', Cpus: "8", Requirements: "TARGET.RequestCpus <= Cpus" } };
  assert.deepEqual(codec.decode(codec.encode(ad)), ad);
  assert.deepEqual(messageCodec<object>("Empty").decode(new Uint8Array(0)), {});
});
