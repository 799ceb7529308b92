/**
 * Long-lived streams (watches) have a bound of their own per connection: a client holding
 * watches still gets its calls through, and the stream past the bound is refused clearly.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { TooManyCallsError } from "../../src/wire/errors.js";
import { connect, eventually, serverPerFile } from "./harness.js";

const world = serverPerFile({ limits: { maxConcurrentCalls: 4, maxConcurrentStreams: 6 } });

test("open watches take no call slots, at the server or in the client's queue", async () => {
  // The client's own in-flight bound is as small as the server's call limit.
  const client = connect(world.ts, world.pki, { maxCallsInFlight: 4 });
  const ac = new AbortController();
  try {
    await client.connected();
    const contexts = world.ts.observed.contexts.length;
    const watches = Array.from({ length: 6 }, () =>
      client.stream("test.Quiet", new Uint8Array(0), { signal: ac.signal }),
    );
    const reading = watches.map((w) => w.next().catch((e: Error) => e));
    await eventually(() => world.ts.observed.contexts.length === contexts + 6, 10_000, "6 watches");
    const echoed = await client.call("test.Echo", Buffer.from("still served"));
    assert.equal(Buffer.from(echoed).toString(), "still served");
    // The seventh stream is past the streams' own bound.
    const seventh = client.stream("test.Quiet", new Uint8Array(0), { signal: ac.signal });
    await assert.rejects(seventh.next(), (err: Error) => {
      assert.ok(err instanceof TooManyCallsError);
      assert.match(err.message, /more than 6 streams open on one connection/);
      return true;
    });
    ac.abort();
    await Promise.all(reading);
  } finally {
    await client.close();
  }
});
