import assert from "node:assert/strict";
import { test } from "node:test";
import { CancelledError } from "../../src/wire/errors.js";
import { connect, eventually, serverPerFile } from "./harness.js";

const world = serverPerFile();

test("aborting a call rejects it with cancelled and aborts the handler's signal", async () => {
  const client = connect(world.ts, world.pki);
  try {
    await client.connected();
    const contexts = world.ts.observed.contexts.length;
    const aborted = world.ts.observed.aborted.length;
    const ac = new AbortController();
    const call = client.call("test.Hang", new Uint8Array(0), { signal: ac.signal });
    await eventually(() => world.ts.observed.contexts.length > contexts, 5_000, "handler start");
    const ctx = world.ts.observed.contexts.at(-1)!;
    assert.equal(ctx.aborted, false);
    ac.abort();
    await assert.rejects(call, CancelledError);
    await eventually(() => world.ts.observed.aborted.length > aborted, 5_000, "handler abort");
    assert.equal((world.ts.observed.aborted.at(-1) as { code: string }).code, "cancelled");
    assert.equal(ctx.aborted, true);
  } finally {
    await client.close();
  }
});

test("an already aborted signal fails the call without sending it", async () => {
  const client = connect(world.ts, world.pki);
  try {
    const contexts = world.ts.observed.contexts.length;
    await assert.rejects(
      client.call("test.Echo", Buffer.from("x"), { signal: AbortSignal.abort() }),
      CancelledError,
    );
    await client.call("test.Echo", Buffer.from("y"));
    assert.equal(world.ts.observed.contexts.length, contexts + 1);
  } finally {
    await client.close();
  }
});
