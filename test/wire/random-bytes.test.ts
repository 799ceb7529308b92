import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import type { Duplex } from "node:stream";
import { test } from "node:test";
import { connect, rawPeer, serverPerFile } from "./harness.js";

const world = serverPerFile();

test("random bytes under the WebSocket layer end that connection only", async () => {
  const bystander = connect(world.ts, world.pki);
  try {
    await bystander.call("test.Echo", Buffer.from("before"));
    const peers = await Promise.all(Array.from({ length: 5 }, () => rawPeer(world.ts, world.pki)));
    for (const p of peers) {
      // Straight onto the TLS stream: not even WebSocket framing.
      (p.ws as unknown as { _socket: Duplex })._socket.write(randomBytes(4096));
    }
    const closes = await Promise.all(peers.map((p) => p.closed));
    for (const c of closes) assert.notEqual(c.code, 1000);
    const reply = await bystander.call("test.Echo", Buffer.from("after"));
    assert.equal(Buffer.from(reply).toString(), "after");
  } finally {
    await bystander.close();
  }
});

test("random binary messages get an error close, never a crash", async () => {
  const bystander = connect(world.ts, world.pki);
  try {
    for (let i = 0; i < 20; i++) {
      const peer = await rawPeer(world.ts, world.pki);
      peer.ws.send(randomBytes(1 + Math.floor(Math.random() * 2000)));
      // A message may by chance decode as a valid envelope; then the connection stays up.
      const outcome = await Promise.race([
        peer.closed,
        new Promise<undefined>((r) => setTimeout(() => r(undefined), 200)),
      ]);
      if (outcome) assert.ok(outcome.code >= 4000 && outcome.code < 5000, String(outcome.code));
      peer.ws.terminate();
    }
    const reply = await bystander.call("test.Echo", Buffer.from("still here"));
    assert.equal(Buffer.from(reply).toString(), "still here");
  } finally {
    await bystander.close();
  }
});
