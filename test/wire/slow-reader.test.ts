import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import {
  createTestPki,
  eventually,
  rawPeer,
  startServer,
  type TestPki,
  type TestServer,
} from "./harness.js";

const ITEM = 64 * 1024;
let pki: TestPki;
let ts: TestServer;

before(async () => {
  pki = createTestPki();
  ts = await startServer(pki, { limits: { streamHighWaterBytes: 256 * 1024 } });
});
after(async () => {
  await ts.server.close();
  pki.cleanup();
});

test("a reader that stops reading stalls the stream instead of growing the server's buffer", async () => {
  const peer = await rawPeer(ts, pki);
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
        const now = ts.observed.itemsWritten;
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
    await eventually(() => ts.observed.itemsWritten > last + 10, 20_000, "the stream to resume");
    peer.sendEnvelopes([{ id: 1, kind: "cancel" }]);
  } finally {
    peer.ws.terminate();
  }
});
