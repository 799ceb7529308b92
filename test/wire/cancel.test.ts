import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { CancelledError } from "../../src/wire/errors.js";
import {
  connect,
  createTestPki,
  eventually,
  startServer,
  type TestPki,
  type TestServer,
} from "./harness.js";

let pki: TestPki;
let ts: TestServer;

before(async () => {
  pki = createTestPki();
  ts = await startServer(pki);
});
after(async () => {
  await ts.server.close();
  pki.cleanup();
});

test("aborting a call rejects it with cancelled and aborts the handler's signal", async () => {
  const client = connect(ts, pki);
  try {
    await client.connected();
    const contexts = ts.observed.contexts.length;
    const aborted = ts.observed.aborted.length;
    const ac = new AbortController();
    const call = client.call("test.Hang", new Uint8Array(0), { signal: ac.signal });
    await eventually(() => ts.observed.contexts.length > contexts, 5_000, "handler start");
    ac.abort();
    await assert.rejects(call, CancelledError);
    await eventually(() => ts.observed.aborted.length > aborted, 5_000, "handler abort");
    assert.equal((ts.observed.aborted.at(-1) as { code: string }).code, "cancelled");
  } finally {
    await client.close();
  }
});

test("an already aborted signal fails the call without sending it", async () => {
  const client = connect(ts, pki);
  try {
    const contexts = ts.observed.contexts.length;
    await assert.rejects(
      client.call("test.Echo", Buffer.from("x"), { signal: AbortSignal.abort() }),
      CancelledError,
    );
    await client.call("test.Echo", Buffer.from("y"));
    assert.equal(ts.observed.contexts.length, contexts + 1);
  } finally {
    await client.close();
  }
});
