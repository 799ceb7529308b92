import assert from "node:assert/strict";
import { test } from "node:test";
import { closeCodeFor } from "../../src/wire/errors.js";
import { connect, rawPeer, serverPerFile } from "./harness.js";

const world = serverPerFile();

test("a frame that is not an Envelope closes the connection with malformed-frame", async () => {
  const peer = await rawPeer(world.ts, world.pki);
  // A valid length prefix around bytes that do not parse as protobuf.
  peer.ws.send(Buffer.from([3, 0xff, 0xff, 0xff]));
  const closed = await peer.closed;
  assert.equal(closed.code, closeCodeFor("malformed-frame"));
  assert.equal(closed.reason, "malformed-frame");
  const err = await peer.waitFor((e) => e.id === 0 && e.kind === "error", "connection error");
  assert.equal(err.kind === "error" && err.code, "malformed-frame");
});

test("a message ending inside a frame closes the connection with malformed-frame", async () => {
  const peer = await rawPeer(world.ts, world.pki);
  peer.ws.send(Buffer.from([10, 1, 2]));
  assert.equal((await peer.closed).code, closeCodeFor("malformed-frame"));
});

test("a client sending a server-only envelope is closed", async () => {
  const peer = await rawPeer(world.ts, world.pki);
  peer.sendEnvelopes([{ id: 1, kind: "response", payload: new Uint8Array(0) }]);
  assert.equal((await peer.closed).code, closeCodeFor("malformed-frame"));
});

test("a text message is refused", async () => {
  const peer = await rawPeer(world.ts, world.pki);
  peer.ws.send("hello");
  assert.equal((await peer.closed).code, closeCodeFor("malformed-frame"));
});

test("a payload that does not decode for the method fails that call with invalid-argument", async () => {
  const { messageCodec } = await import("../../src/wire/schema.js");
  const ad = messageCodec<object>("ClassAd");
  world.ts.server.unary("test.Typed", { roles: ["user"], request: ad, response: ad }, (req) => req);
  const client = connect(world.ts, world.pki);
  try {
    await assert.rejects(
      client.call("test.Typed", Buffer.from([0xff, 0xff, 0xff])),
      (e: Error & { code?: string }) => e.code === "invalid-argument",
    );
  } finally {
    await client.close();
  }
});
