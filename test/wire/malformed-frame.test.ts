import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { closeCodeFor } from "../../src/wire/errors.js";
import {
  connect,
  createTestPki,
  rawPeer,
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

test("a frame that is not an Envelope closes the connection with malformed-frame", async () => {
  const peer = await rawPeer(ts, pki);
  // A valid length prefix around bytes that do not parse as protobuf.
  peer.ws.send(Buffer.from([3, 0xff, 0xff, 0xff]));
  const closed = await peer.closed;
  assert.equal(closed.code, closeCodeFor("malformed-frame"));
  assert.equal(closed.reason, "malformed-frame");
  const err = await peer.waitFor((e) => e.id === 0 && e.kind === "error", "connection error");
  assert.equal(err.kind === "error" && err.code, "malformed-frame");
});

test("a message ending inside a frame closes the connection with malformed-frame", async () => {
  const peer = await rawPeer(ts, pki);
  peer.ws.send(Buffer.from([10, 1, 2]));
  assert.equal((await peer.closed).code, closeCodeFor("malformed-frame"));
});

test("a client sending a server-only envelope is closed", async () => {
  const peer = await rawPeer(ts, pki);
  peer.sendEnvelopes([{ id: 1, kind: "response", payload: new Uint8Array(0) }]);
  assert.equal((await peer.closed).code, closeCodeFor("malformed-frame"));
});

test("a text message is refused", async () => {
  const peer = await rawPeer(ts, pki);
  peer.ws.send("hello");
  assert.equal((await peer.closed).code, closeCodeFor("malformed-frame"));
});

test("a payload that does not decode for the method fails that call with invalid-argument", async () => {
  const { messageCodec } = await import("../../src/wire/schema.js");
  const ad = messageCodec<object>("ClassAd");
  ts.server.unary("test.Typed", { roles: ["user"], request: ad, response: ad }, (req) => req);
  const client = connect(ts, pki);
  try {
    await assert.rejects(
      client.call("test.Typed", Buffer.from([0xff, 0xff, 0xff])),
      (e: Error & { code?: string }) => e.code === "invalid-argument",
    );
  } finally {
    await client.close();
  }
});
