import assert from "node:assert/strict";
import { test } from "node:test";
import { connect, eventually, serverPerFile } from "./harness.js";

const world = serverPerFile();

test("a consumer that stops reading holds the server at its stream window", async () => {
  const client = connect(world.ts, world.pki);
  const WINDOW = 8;
  try {
    const before = world.ts.observed.itemsWritten;
    const written = () => world.ts.observed.itemsWritten - before;
    const stream = client.stream("test.Flood", new Uint8Array(0), { window: WINDOW });
    await stream.next(); // take one item, then stop reading
    await eventually(() => written() >= WINDOW, 10_000, "the window to fill");
    // Give the server every chance to overrun the window: it may not.
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(written(), WINDOW);

    // Reading on lets exactly as much more through as was consumed (granted per half window).
    for (let i = 0; i < 20; i++) await stream.next();
    await eventually(() => written() >= 20, 10_000, "the stream to go on");
    await new Promise((r) => setTimeout(r, 300));
    assert.ok(written() <= 21 + WINDOW, `${written()} written for 21 read`);
    await stream.return!();
    // Other calls on the connection were never held up by the stalled stream.
    assert.equal(Buffer.from(await client.call("test.Echo", Buffer.from("ok"))).toString(), "ok");
  } finally {
    await client.close();
  }
});

test("other calls run while a stream waits for its consumer", async () => {
  const client = connect(world.ts, world.pki);
  try {
    const stalled = client.stream("test.Flood", new Uint8Array(0), { window: 2 });
    await stalled.next();
    const replies = await Promise.all(
      Array.from({ length: 50 }, (_, i) => client.call("test.Echo", Buffer.from(String(i)))),
    );
    assert.equal(replies.length, 50);
    await stalled.return!();
  } finally {
    await client.close();
  }
});
