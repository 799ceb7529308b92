import assert from "node:assert/strict";
import { test } from "node:test";
import { closeCodeFor, FrameTooLargeError } from "../../src/wire/errors.js";
import { joinFrames } from "../../src/wire/framing.js";
import { connect, rawPeer, serverPerFile } from "./harness.js";

const LIMIT = 64 * 1024;
const world = serverPerFile({ limits: { maxFrameSize: LIMIT } });

test("a frame above the limit closes the connection with frame-too-large", async () => {
  const peer = await rawPeer(world.ts, world.pki);
  // Only the length prefix is needed for the server to refuse.
  peer.ws.send(joinFrames([Buffer.alloc(LIMIT + 1)]).subarray(0, 10));
  const closed = await peer.closed;
  assert.equal(closed.code, closeCodeFor("frame-too-large"));
});

test("a WebSocket message far above the limit is refused by the socket layer", async () => {
  const peer = await rawPeer(world.ts, world.pki);
  peer.ws.send(Buffer.alloc(LIMIT * 4));
  const closed = await peer.closed;
  // ws's own "message too big" (1009), which clients map to frame-too-large.
  assert.equal(closed.code, 1009);
});

test("the client refuses to send an oversized request and keeps the connection", async () => {
  const client = connect(world.ts, world.pki, { maxFrameSize: LIMIT });
  try {
    await client.connected();
    await assert.rejects(client.call("test.Echo", Buffer.alloc(LIMIT + 1)), FrameTooLargeError);
    assert.equal(Buffer.from(await client.call("test.Echo", Buffer.from("s"))).toString(), "s");
  } finally {
    await client.close();
  }
});

test("a request over the server's limit costs the connection; the call says why", async () => {
  const client = connect(world.ts, world.pki, { maxFrameSize: LIMIT * 2 });
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
  world.ts.server.unary(
    "test.Big",
    { roles: ["user"], request: bytesCodec, response: bytesCodec },
    () => Buffer.alloc(LIMIT + 10),
  );
  const client = connect(world.ts, world.pki, { maxFrameSize: LIMIT * 2 });
  try {
    await assert.rejects(client.call("test.Big", new Uint8Array(0)), FrameTooLargeError);
    assert.equal(Buffer.from(await client.call("test.Echo", Buffer.from("t"))).toString(), "t");
  } finally {
    await client.close();
  }
});
