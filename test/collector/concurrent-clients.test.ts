import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { createCollectorClient } from "../../src/collector/client.js";
import {
  connectAs,
  createPool,
  type Pool,
  type Running,
  slotAd,
  startCollector,
} from "./harness.js";

let pool: Pool;
let c: Running;

before(async () => {
  pool = createPool();
  c = await startCollector(pool);
});
after(async () => {
  await c.stop();
  pool.cleanup();
});

test("100 clients advertising and querying at once all succeed", async () => {
  const clients = Array.from({ length: 100 }, () => {
    const rpc = connectAs(pool, c.url, "pilot");
    c.rpcs.push(rpc);
    return createCollectorClient(rpc);
  });
  const results = await Promise.all(
    clients.map(async (client, k) => {
      const ads = Array.from({ length: 10 }, (_, j) => slotAd(k * 10 + j));
      const outcomes = await client.advertise(ads, "", { deadlineMs: 60_000 });
      const seen = await client.query(
        { type: "Slot", projection: ["Name"] },
        { deadlineMs: 60_000 },
      );
      return { stored: outcomes.filter((o) => o.ok).length, seen: seen.length };
    }),
  );
  assert.ok(results.every((r) => r.stored === 10));
  assert.ok(results.every((r) => r.seen >= 10 && r.seen <= 1000));
  const all = await c.as("reader").query({ type: "Slot", projection: ["Name"] });
  assert.equal(all.length, 1000);
  assert.equal(new Set(all.map((a) => a.Name)).size, 1000);
});
