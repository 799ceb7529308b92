import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { bytesCodec } from "../../src/wire/registry.js";
import { connect, createTestPki, eventually, startServer, type TestPki } from "./harness.js";

let pki: TestPki;

before(() => {
  pki = createTestPki();
});
after(() => {
  pki.cleanup();
});

test("close() lets running calls finish, then closes every connection", async () => {
  const ts = await startServer(pki, { limits: { drainTimeoutMs: 10_000 } });
  let release: () => void = () => {};
  const gate = new Promise<void>((r) => (release = r));
  let started = false;
  ts.server.unary(
    "test.Gated",
    { roles: ["user"], request: bytesCodec, response: bytesCodec },
    async (req) => {
      started = true;
      await gate;
      return req;
    },
  );
  const client = connect(ts, pki);
  try {
    await client.connected();
    const running = client.call("test.Gated", Buffer.from("finished"));
    await eventually(() => started, 5_000, "handler start");
    let closed = false;
    const closing = ts.server.close().then(() => (closed = true));
    // While draining the server is not closed, and the call is still alive.
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(closed, false);
    // New calls are turned away while draining, so clients go elsewhere.
    await assert.rejects(
      client.call("test.Echo", Buffer.from("late")),
      (e: Error & { code?: string }) => e.code === "unavailable",
    );
    release();
    assert.equal(Buffer.from(await running).toString(), "finished");
    await closing;
    assert.equal(ts.server.connectionCount, 0);
  } finally {
    await client.close();
  }
});

test("calls still running at the drain timeout are cut off and fail as unavailable", async () => {
  const ts = await startServer(pki, { limits: { drainTimeoutMs: 100 } });
  const client = connect(ts, pki);
  try {
    await client.connected();
    const stuck = client.call("test.Hang", new Uint8Array(0), { deadlineMs: 20_000 });
    await eventually(() => ts.observed.contexts.length === 1, 5_000, "handler start");
    await ts.server.close();
    await assert.rejects(stuck, (e: Error & { code?: string }) => e.code === "unavailable");
    assert.equal((ts.observed.aborted[0] as { code?: string }).code, "unavailable");
  } finally {
    await client.close();
  }
});
