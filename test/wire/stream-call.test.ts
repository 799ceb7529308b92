import assert from "node:assert/strict";
import { test } from "node:test";
import { bytesCodec } from "../../src/wire/registry.js";
import { messageCodec, type WireClassAd } from "../../src/wire/schema.js";
import { connect, eventually, serverPerFile } from "./harness.js";

const world = serverPerFile();

test("a stream delivers every item in order, then ends", async () => {
  const client = connect(world.ts, world.pki);
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
  const client = connect(world.ts, world.pki);
  try {
    const got: Uint8Array[] = [];
    for await (const item of client.stream("test.Count", Buffer.from([0]))) got.push(item);
    assert.equal(got.length, 0);
  } finally {
    await client.close();
  }
});

test("leaving a stream early cancels it on the server", async () => {
  const client = connect(world.ts, world.pki);
  try {
    const aborted = world.ts.observed.aborted.length;
    let n = 0;
    for await (const _ of client.stream("test.Flood", new Uint8Array(0))) if (++n === 3) break;
    await eventually(() => world.ts.observed.aborted.length > aborted, 5_000, "flood to stop");
    assert.equal((world.ts.observed.aborted.at(-1) as { code: string }).code, "cancelled");
    // The server drops the call: the connection ends up with none running.
    const written = world.ts.observed.itemsWritten;
    await new Promise((r) => setTimeout(r, 100));
    const later = world.ts.observed.itemsWritten;
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(world.ts.observed.itemsWritten, later, `still writing after ${written}`);
    // The connection still serves calls.
    assert.equal(Buffer.from(await client.call("test.Echo", Buffer.from("k"))).toString(), "k");
  } finally {
    await client.close();
  }
});

test("typed methods encode and decode with the schema", async () => {
  const client = connect(world.ts, world.pki);
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
