import assert from "node:assert/strict";
import { test } from "node:test";
import { eventually, rawPeer, serverPerFile } from "./harness.js";

const ITEM = 64 * 1024;
const world = serverPerFile({ limits: { streamHighWaterBytes: 256 * 1024 } });

test("a reader that stops reading stalls the stream instead of growing the server's buffer", async () => {
  const peer = await rawPeer(world.ts, world.pki);
  try {
    peer.sendEnvelopes([
      { id: 1, kind: "request", method: "test.Flood", payload: new Uint8Array(0), deadlineMs: 0 },
    ]);
    await peer.waitFor((e) => e.id === 1 && e.kind === "item", "first item");
    peer.ws.pause(); // stop reading: the kernel buffers fill, then the server's
    // Wait until the writer has stopped: the count holds still across a quiet spell.
    let last = -1;
    await eventually(
      () => {
        const now = world.ts.observed.itemsWritten;
        const still = now === last;
        last = now;
        return still;
      },
      20_000,
      "the stream to stall",
      250,
    );
    // Without backpressure this grows without end. With it: the high-water mark plus what the
    // kernel's socket buffers on both ends hold (a few MiB on loopback).
    assert.ok(last * ITEM < 64 * 1024 * 1024, `${last} items written while nobody read`);
    // Reading again lets the stream go on.
    peer.ws.resume();
    await eventually(
      () => world.ts.observed.itemsWritten > last + 10,
      20_000,
      "the stream to resume",
    );
    peer.sendEnvelopes([{ id: 1, kind: "cancel" }]);
  } finally {
    peer.ws.terminate();
  }
});
