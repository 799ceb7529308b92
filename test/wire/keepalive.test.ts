import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { ConnectionStatus } from "../../src/wire/status.js";
import {
  connect,
  createTestPki,
  eventually,
  rawPeer,
  startServer,
  type TestPki,
  type TestServer,
} from "./harness.js";

let pki: TestPki;
let ts: TestServer;

before(async () => {
  pki = createTestPki();
  ts = await startServer(pki, { limits: { pingIntervalMs: 250 } });
});
after(async () => {
  await ts.server.close();
  pki.cleanup();
});

test("the server drops a peer that stops answering pings", async () => {
  const peer = await rawPeer(ts, pki, { autoPong: false });
  const closed = await peer.closed; // would hang without keep-alive; the test runner times out
  assert.equal(closed.code, 1006); // terminated, no close handshake
});

test("a peer that answers pings stays connected across many ping intervals", async () => {
  const client = connect(ts, pki);
  const seen: ConnectionStatus["type"][] = [];
  const off = client.onStatus((s) => seen.push(s.type));
  try {
    await client.connected();
    let pings = 0;
    // Quiet for many ping intervals: only pongs keep the connection.
    const until = Date.now() + 2_500;
    while (Date.now() < until) {
      await new Promise((r) => setTimeout(r, 100));
      pings++;
    }
    await client.call("test.Echo", Buffer.from("p"));
    assert.ok(pings > 0);
    assert.ok(!seen.includes("disconnected"), seen.join(","));
  } finally {
    off();
    await client.close();
  }
});

test("the client drops a server that goes silent, and reconnects", async () => {
  // This server never pings; the client's watchdog must notice the silence.
  const quiet = await startServer(pki, { limits: { pingIntervalMs: 3_600_000 } });
  const client = connect(quiet, pki, { deadPeerMs: 150 });
  const seen: ConnectionStatus["type"][] = [];
  const off = client.onStatus((s) => seen.push(s.type));
  try {
    await client.connected();
    await eventually(() => seen.includes("disconnected"), 5_000, "watchdog");
    await client.connected();
  } finally {
    off();
    await client.close();
    await quiet.server.close();
  }
});
