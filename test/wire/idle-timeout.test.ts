import assert from "node:assert/strict";
import { test } from "node:test";
import type { ConnectionStatus } from "../../src/wire/status.js";
import { connect, eventually, serverPerFile } from "./harness.js";

const world = serverPerFile({ limits: { idleTimeoutMs: 200 } });

test("an idle connection is closed with idle-timeout and reopened by the next call", async () => {
  const client = connect(world.ts, world.pki);
  const seen: ConnectionStatus[] = [];
  const off = client.onStatus((s) => seen.push(s));
  try {
    await client.connected();
    await eventually(() => seen.some((s) => s.type === "disconnected"), 5_000, "idle close");
    const d = seen.find((s) => s.type === "disconnected") as Extract<
      ConnectionStatus,
      { type: "disconnected" }
    >;
    assert.equal(d.error?.code, "idle-timeout");
    assert.equal(d.retryInMs, -1);
    assert.equal(world.ts.server.connectionCount, 0);
    assert.equal(Buffer.from(await client.call("test.Echo", Buffer.from("hi"))).toString(), "hi");
  } finally {
    off();
    await client.close();
  }
});

test("a connection with a call running is not idle", async () => {
  const client = connect(world.ts, world.pki);
  const seen: ConnectionStatus["type"][] = [];
  const off = client.onStatus((s) => seen.push(s.type));
  try {
    await client.connected();
    // A stream that trickles for longer than the idle timeout.
    let n = 0;
    for await (const _ of client.stream("test.Flood", new Uint8Array(0))) {
      await new Promise((r) => setTimeout(r, 20));
      if (++n === 30) break;
    }
    assert.ok(!seen.includes("disconnected"), seen.join(","));
  } finally {
    off();
    await client.close();
  }
});
