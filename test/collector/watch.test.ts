import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { eventually } from "../wire/harness.js";
import { createPool, type Pool, type Running, slotAd, startCollector } from "./harness.js";

let pool: Pool;
let c: Running;

before(async () => {
  pool = createPool();
  c = await startCollector(
    pool,
    pool.config({ lifetime: { default_s: 900, per_type: { Slot: 100 } } }),
  );
});
after(async () => {
  await c.stop();
  pool.cleanup();
});

type Seen = { kind: string; name: string | undefined; state: string | undefined };

function collect(query: Parameters<ReturnType<Running["as"]>["watch"]>[0], signal: AbortSignal) {
  const seen: Seen[] = [];
  const done = (async () => {
    try {
      for await (const ch of c.as("reader").watch(query, { signal })) {
        seen.push({ kind: ch.kind, name: ch.ad?.Name, state: ch.ad?.State });
      }
    } catch (err) {
      if (!signal.aborted) throw err;
    }
  })();
  return { seen, done };
}

test("a watch sends the current set, then upserts, departures, invalidations and expiries", async () => {
  await c.as("pilot").advertise([slotAd(1), slotAd(2, { GLIDEIN_Site: '"Other"' })]);
  const stop = new AbortController();
  const w = collect(
    { type: "Slot", constraint: 'GLIDEIN_Site =!= "Other"', projection: ["Name", "State"] },
    stop.signal,
  );
  await eventually(() => w.seen.some((s) => s.kind === "synced"), 5000, "initial set");
  assert.deepEqual(w.seen, [
    { kind: "present", name: '"slot1@glidein_1@wn1.example.org"', state: '"Unclaimed"' },
    { kind: "synced", name: undefined, state: undefined },
  ]);

  await c.as("pilot").advertise([slotAd(1, { State: '"Claimed"' })]);
  await c.as("pilot").advertise([slotAd(3)]);
  await c.as("pilot").advertise([slotAd(4, { GLIDEIN_Site: '"Other"' })]); // not in the set
  await c.as("pilot").advertise([slotAd(3, { GLIDEIN_Site: '"Other"' })]); // leaves the set
  await c.as("pilot").invalidate({ type: "Slot", name: "slot1@glidein_1@wn1.example.org" });
  await c.as("pilot").advertise([slotAd(5)]);
  c.timers.advance(101_000);
  await eventually(() => w.seen.length >= 8, 5000, "changes");
  assert.deepEqual(
    w.seen.slice(2).map((s) => [s.kind, s.name]),
    [
      ["upserted", '"slot1@glidein_1@wn1.example.org"'],
      ["upserted", '"slot1@glidein_3@wn3.example.org"'],
      ["departed", '"slot1@glidein_3@wn3.example.org"'],
      ["invalidated", '"slot1@glidein_1@wn1.example.org"'],
      ["upserted", '"slot1@glidein_5@wn5.example.org"'],
      ["expired", '"slot1@glidein_5@wn5.example.org"'],
    ],
  );
  assert.equal(w.seen[2]!.state, '"Claimed"');
  stop.abort();
  await w.done;
});

test("a watch of another type sees nothing of slots; cancelling frees it", async () => {
  const before = storeListeners();
  const stop = new AbortController();
  const w = collect({ type: "GlideFactory" }, stop.signal);
  await eventually(() => w.seen.length === 1, 5000, "synced");
  await c.as("pilot").advertise([slotAd(50)]);
  await c.as("factory").advertise([{ MyType: '"GlideFactory"', Name: '"entry_w"' }]);
  await eventually(() => w.seen.length === 2, 5000, "factory upsert");
  assert.deepEqual(
    w.seen.map((s) => s.kind),
    ["synced", "upserted"],
  );
  stop.abort();
  await w.done;
  await eventually(
    () => c.daemon.core.store.size > 0 && storeListeners() === before,
    5000,
    "watch released",
  );
});

function storeListeners(): number {
  // The store's listeners: the daemon's own (expiry rescheduler, metrics) and any open watches.
  return (c.daemon.core.store as unknown as { listeners: Set<unknown> }).listeners.size;
}
