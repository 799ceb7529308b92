import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { createPool, type Pool, type Running, slotAd, startCollector } from "./harness.js";

// A read-only user's constraint that scans every ad's biggest string several times over.
const HOSTILE =
  'regexp("(a|b)*c$", Big) || stringListMember("q", Big) || regexp("z$", strcat(Big, Big)) || ' +
  'size(split(Big, "x")) < 0 || regexp("y", toUpper(Big))';

let pool: Pool;

before(() => {
  pool = createPool();
});
after(() => pool.cleanup());

async function fill(c: Running, n: number): Promise<void> {
  const big = `"${"x".repeat(50_000)}"`;
  for (let i = 0; i < n; i += 50) {
    const ads = Array.from({ length: Math.min(50, n - i) }, (_, j) => slotAd(i + j, { Big: big }));
    const out = await c.as("pilot").advertise(ads, "", { deadlineMs: 60_000 });
    assert.ok(out.every((o) => o.ok));
  }
}

test("a constraint past the query's step budget is refused with resource-exhausted naming the bound", async () => {
  const c = await startCollector(pool);
  try {
    await fill(c, 200);
    const started = performance.now();
    await assert.rejects(c.as("reader").query({ type: "Slot", constraint: HOSTILE }), (err) => {
      const e = err as { code: string; message: string };
      assert.equal(e.code, "resource-exhausted");
      assert.match(e.message, /step budget/);
      assert.match(e.message, /query_step_budget/);
      return true;
    });
    const ms = performance.now() - started;
    // An ordinary query still answers, and cheap constraints over the same ads are untouched.
    const cheap = await c.as("reader").query({ type: "Slot", constraint: "Cpus >= 4" });
    assert.equal(cheap.length, 50);
    assert.ok(ms < 30_000, `refused after ${ms} ms`);
  } finally {
    await c.stop();
  }
});

test("a constraint building a string past the cap is refused naming the string cap", async () => {
  const c = await startCollector(pool);
  try {
    await fill(c, 5);
    await assert.rejects(
      c.as("reader").query({
        type: "Slot",
        constraint: 'size(replaceall("x", Big, strcat(Name, Name))) > 0',
      }),
      (err) => {
        const e = err as { code: string; message: string };
        assert.equal(e.code, "resource-exhausted");
        assert.match(e.message, /string length cap/);
        return true;
      },
    );
  } finally {
    await c.stop();
  }
});

test("while a costly query runs, another client's small query answers first", async () => {
  const config = pool.config({
    limits: { query_step_budget: 2_000_000_000, query_slice_s: 0.01 },
  });
  const c = await startCollector(pool, config);
  try {
    await fill(c, 300);
    // The other client is already connected: what is measured is the queries' turns, not a
    // handshake sharing this process's event loop with the collector.
    await c.as("admin").query({ type: "Slot", constraint: "false" });
    // Six passes over the ads take some seconds even on a quiet machine, so the costly query is
    // still running when the small one arrives, whatever the load.
    const costly = Array.from({ length: 6 }, () => `(${HOSTILE})`).join(" || ");
    const order: string[] = [];
    const hostile = c
      .as("reader")
      .query({ type: "Slot", constraint: costly }, { deadlineMs: 300_000 })
      .then(
        (ads) => order.push(`hostile:${ads.length}`),
        (err: Error) => order.push(`hostile-failed:${err.message}`),
      );
    // Let the costly query start evaluating, then ask something small from another identity.
    await new Promise((r) => setTimeout(r, 200));
    const small = await c.as("admin").query({ type: "Slot", constraint: 'Name == "nobody"' });
    order.push(`small:${small.length}`);
    await hostile;
    assert.deepEqual(order, ["small:0", "hostile:0"]);
  } finally {
    await c.stop();
  }
});
