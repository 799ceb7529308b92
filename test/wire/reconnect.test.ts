import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { bytesCodec } from "../../src/wire/registry.js";
import type { ConnectionStatus } from "../../src/wire/status.js";
import { connect, createTestPki, eventually, startServer, type TestPki } from "./harness.js";

let pki: TestPki;

before(() => {
  pki = createTestPki();
});
after(() => {
  pki.cleanup();
});

const bytes = { request: bytesCodec, response: bytesCodec };

test("after a server restart the client reconnects, and a new call succeeds", async () => {
  const first = await startServer(pki, { limits: { drainTimeoutMs: 100 } });
  const port = first.server.address().port;
  // Hangs on the first server, answers on the second: only a re-sent call can succeed.
  first.server.unary("test.Sometimes", { roles: ["user"], ...bytes }, () => new Promise(() => {}));
  const client = connect(first, pki);
  const seen: ConnectionStatus["type"][] = [];
  const off = client.onStatus((s) => seen.push(s.type));
  let second: Awaited<ReturnType<typeof startServer>> | undefined;
  try {
    await client.connected();
    const lost = client.call("test.Hang", new Uint8Array(0));
    const repeated = client.call("test.Sometimes", Buffer.from("again"), { idempotent: true });
    await eventually(() => first.observed.contexts.length === 1, 5_000, "call to start");

    await first.server.close();
    await assert.rejects(lost, (e: Error & { code?: string }) => e.code === "unavailable");
    await eventually(() => seen.includes("disconnected"), 5_000, "disconnected status");

    second = await startServer(pki, { port });
    second.server.unary("test.Sometimes", { roles: ["user"], ...bytes }, (req) => req);
    await client.connected();
    assert.equal(Buffer.from(await repeated).toString(), "again");
    assert.equal(Buffer.from(await client.call("test.Echo", Buffer.from("new"))).toString(), "new");
    // connected, then disconnected, then (after attempts) connecting and connected again.
    const drop = seen.indexOf("disconnected");
    assert.ok(drop > 0 && seen.slice(0, drop).includes("connected"), seen.join(","));
    assert.ok(seen.slice(drop).includes("connecting"), seen.join(","));
    assert.equal(seen.at(-1), "connected");
  } finally {
    off();
    await client.close();
    await second?.server.close();
  }
});

test("calls made while the server is down wait for it and then succeed", async () => {
  const first = await startServer(pki);
  const port = first.server.address().port;
  const client = connect(first, pki);
  let second: Awaited<ReturnType<typeof startServer>> | undefined;
  try {
    await client.connected();
    await first.server.close();
    await eventually(() => client.status.type !== "connected", 5_000, "disconnect");
    const waiting = client.call("test.Echo", Buffer.from("patient"), { deadlineMs: 20_000 });
    second = await startServer(pki, { port });
    assert.equal(Buffer.from(await waiting).toString(), "patient");
  } finally {
    await client.close();
    await second?.server.close();
  }
});

test("status is readable as an async iterable that ends at closed", async () => {
  const ts = await startServer(pki);
  const client = connect(ts, pki);
  try {
    const statuses = client.statuses();
    await client.connected();
    const closing = client.close();
    const types: string[] = [];
    for await (const s of statuses) types.push(s.type);
    await closing;
    assert.deepEqual(types, ["connected", "closed"]);
    await assert.rejects(
      client.call("test.Echo", Buffer.from("x")),
      (e: Error & { code?: string }) => e.code === "unavailable",
    );
  } finally {
    await client.close();
    await ts.server.close();
  }
});
