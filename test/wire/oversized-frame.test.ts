import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { closeCodeFor, FrameTooLargeError } from "../../src/wire/errors.js";
import { joinFrames } from "../../src/wire/framing.js";
import {
  connect,
  createTestPki,
  rawPeer,
  startServer,
  type TestPki,
  type TestServer,
} from "./harness.js";

const LIMIT = 64 * 1024;
let pki: TestPki;
let ts: TestServer;

before(async () => {
  pki = createTestPki();
  ts = await startServer(pki, { limits: { maxFrameSize: LIMIT } });
});
after(async () => {
  await ts.server.close();
  pki.cleanup();
});

test("a frame above the limit closes the connection with frame-too-large", async () => {
  const peer = await rawPeer(ts, pki);
  // Only the length prefix is needed for the server to refuse.
  peer.ws.send(joinFrames([Buffer.alloc(LIMIT + 1)]).subarray(0, 10));
  const closed = await peer.closed;
  assert.equal(closed.code, closeCodeFor("frame-too-large"));
});

test("a WebSocket message far above the limit is refused by the socket layer", async () => {
  const peer = await rawPeer(ts, pki);
  peer.ws.send(Buffer.alloc(LIMIT * 4));
  const closed = await peer.closed;
  // ws's own "message too big" (1009), which clients map to frame-too-large.
  assert.equal(closed.code, 1009);
});

test("the client refuses to send an oversized request and keeps the connection", async () => {
  const client = connect(ts, pki, { maxFrameSize: LIMIT });
  try {
    await client.connected();
    await assert.rejects(client.call("test.Echo", Buffer.alloc(LIMIT + 1)), FrameTooLargeError);
    assert.equal(Buffer.from(await client.call("test.Echo", Buffer.from("s"))).toString(), "s");
  } finally {
    await client.close();
  }
});

test("a request over the server's limit costs the connection; the call says why", async () => {
  const client = connect(ts, pki, { maxFrameSize: LIMIT * 2 });
  try {
    await client.connected();
    await assert.rejects(
      client.call("test.Echo", Buffer.alloc(LIMIT + 100)),
      (e: Error & { code?: string; details?: Record<string, string> }) =>
        e.code === "unavailable" && e.details?.cause === "frame-too-large",
    );
  } finally {
    await client.close();
  }
});

test("a reply too large to send fails that call, not the connection", async () => {
  const { bytesCodec } = await import("../../src/wire/registry.js");
  ts.server.unary("test.Big", { roles: ["user"], request: bytesCodec, response: bytesCodec }, () =>
    Buffer.alloc(LIMIT + 10),
  );
  const client = connect(ts, pki, { maxFrameSize: LIMIT * 2 });
  try {
    await assert.rejects(client.call("test.Big", new Uint8Array(0)), FrameTooLargeError);
    assert.equal(Buffer.from(await client.call("test.Echo", Buffer.from("t"))).toString(), "t");
  } finally {
    await client.close();
  }
});
