import assert from "node:assert/strict";
import { test } from "node:test";
import { DeadlineExceededError } from "../../src/wire/errors.js";
import { connect, eventually, rawPeer, serverPerFile } from "./harness.js";

const world = serverPerFile();

test("a call past its deadline fails with deadline-exceeded and the handler is aborted", async () => {
  const client = connect(world.ts, world.pki);
  try {
    await client.connected();
    const aborted = world.ts.observed.aborted.length;
    await assert.rejects(
      client.call("test.Hang", new Uint8Array(0), { deadlineMs: 100 }),
      DeadlineExceededError,
    );
    await eventually(() => world.ts.observed.aborted.length > aborted, 5_000, "handler abort");
    const reason = world.ts.observed.aborted.at(-1) as { code: string };
    // Whichever side noticed first, the server's handler learns why it was stopped.
    assert.ok(["deadline-exceeded", "cancelled"].includes(reason.code), reason.code);
    assert.equal(world.ts.observed.contexts.at(-1)!.aborted, true);
  } finally {
    await client.close();
  }
});

test("the server enforces the deadline even if the client does not", async () => {
  const peer = await rawPeer(world.ts, world.pki);
  try {
    peer.sendEnvelopes([
      { id: 7, kind: "request", method: "test.Hang", payload: new Uint8Array(0), deadlineMs: 100 },
    ]);
    const reply = await peer.waitFor((e) => e.id === 7, "deadline error");
    assert.equal(reply.kind, "error");
    assert.equal(reply.kind === "error" && reply.code, "deadline-exceeded");
  } finally {
    peer.ws.terminate();
  }
});
