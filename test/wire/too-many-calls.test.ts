import assert from "node:assert/strict";
import { test } from "node:test";
import { TooManyCallsError } from "../../src/wire/errors.js";
import { connect, eventually, serverPerFile } from "./harness.js";

const world = serverPerFile({ limits: { maxConcurrentCalls: 4 } });

test("the call above the per-connection limit fails with too-many-calls; the others run", async () => {
  const client = connect(world.ts, world.pki);
  const ac = new AbortController();
  try {
    await client.connected();
    const contexts = world.ts.observed.contexts.length;
    const hanging = Array.from({ length: 4 }, () =>
      client.call("test.Hang", new Uint8Array(0), { signal: ac.signal }).catch((e: Error) => e),
    );
    await eventually(() => world.ts.observed.contexts.length === contexts + 4, 5_000, "4 handlers");
    await assert.rejects(client.call("test.Echo", Buffer.from("x")), TooManyCallsError);
    // Freeing the slots lets calls through again on the same connection.
    ac.abort();
    await Promise.all(hanging);
    await eventually(() => world.ts.observed.aborted.length >= 4, 5_000, "slots freed");
    assert.equal(Buffer.from(await client.call("test.Echo", Buffer.from("ok"))).toString(), "ok");
  } finally {
    await client.close();
  }
});
