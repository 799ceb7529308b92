import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { bytesCodec } from "../../src/wire/registry.js";
import { messageCodec, type WireClassAd } from "../../src/wire/schema.js";
import {
  connect,
  createTestPki,
  eventually,
  startServer,
  type TestPki,
  type TestServer,
} from "./harness.js";

let pki: TestPki;
let ts: TestServer;

before(async () => {
  pki = createTestPki();
  ts = await startServer(pki);
});
after(async () => {
  await ts.server.close();
  pki.cleanup();
});

test("a stream delivers every item in order, then ends", async () => {
  const client = connect(ts, pki);
  try {
    const got: number[] = [];
    for await (const item of client.stream("test.Count", Buffer.from([100]))) got.push(item[0]!);
    assert.deepEqual(
      got,
      Array.from({ length: 100 }, (_, i) => i),
    );
  } finally {
    await client.close();
  }
});

test("an empty stream just ends", async () => {
  const client = connect(ts, pki);
  try {
    const got: Uint8Array[] = [];
    for await (const item of client.stream("test.Count", Buffer.from([0]))) got.push(item);
    assert.equal(got.length, 0);
  } finally {
    await client.close();
  }
});

test("leaving a stream early cancels it on the server", async () => {
  const client = connect(ts, pki);
  try {
    const aborted = ts.observed.aborted.length;
    let n = 0;
    for await (const _ of client.stream("test.Flood", new Uint8Array(0))) if (++n === 3) break;
    await eventually(() => ts.observed.aborted.length > aborted, 5_000, "flood to stop");
    assert.equal((ts.observed.aborted.at(-1) as { code: string }).code, "cancelled");
    // The server drops the call: the connection ends up with none running.
    const written = ts.observed.itemsWritten;
    await new Promise((r) => setTimeout(r, 100));
    const later = ts.observed.itemsWritten;
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(ts.observed.itemsWritten, later, `still writing after ${written}`);
    // The connection still serves calls.
    assert.equal(Buffer.from(await client.call("test.Echo", Buffer.from("k"))).toString(), "k");
  } finally {
    await client.close();
  }
});

test("typed methods encode and decode with the schema", async () => {
  const client = connect(ts, pki);
  try {
    const ad = messageCodec<WireClassAd>("ClassAd");
    const echo = client.unaryMethod("test.Echo", { request: ad, response: ad });
    const sent = { attrs: { MyType: '"Slot"', Cpus: "8" } };
    assert.deepEqual(await echo(sent), sent);
    const count = client.streamMethod("test.Count", {
      request: bytesCodec,
      response: { encode: (n: number) => Buffer.from([n]), decode: (b) => b[0]! },
    });
    const got: number[] = [];
    for await (const n of count(Buffer.from([5]))) got.push(n);
    assert.deepEqual(got, [0, 1, 2, 3, 4]);
  } finally {
    await client.close();
  }
});
