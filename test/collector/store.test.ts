import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { AdStore, type StoreEvent } from "../../src/collector/store.js";
import { ExpiryQueue } from "../../src/collector/expiry-queue.js";

const alice = { identity: "/DC=org/DC=example/CN=Alice", admin: false };
const bob = { identity: "/DC=org/DC=example/CN=Bob", admin: false };
const admin = { identity: "/DC=org/DC=example/CN=Admin", admin: true };
const T0 = 1_000_000;

function newStore(maxAdsPerIdentity = 100) {
  const store = new AdStore<{ v: number }>({ maxAdsPerIdentity });
  const events: StoreEvent<{ v: number }>[] = [];
  store.subscribe((e) => events.push(e));
  return { store, events };
}

test("insert then replace, by type and name case-insensitively", () => {
  const { store, events } = newStore();
  assert.deepEqual(store.upsert("Slot", "slot1@a", { v: 1 }, alice, 900_000, T0), {
    ok: true,
    replaced: false,
  });
  assert.deepEqual(store.upsert("SLOT", "SLOT1@A", { v: 2 }, alice, 900_000, T0 + 5), {
    ok: true,
    replaced: true,
  });
  assert.equal(store.size, 1);
  const got = store.get("slot", "slot1@a");
  assert.equal(got?.ad.v, 2);
  assert.equal(got?.lastHeard, T0 + 5);
  assert.equal(got?.identity, alice.identity);
  assert.deepEqual(
    events.map((e) => e.kind),
    ["upserted", "upserted"],
  );
});

test("another identity cannot replace or invalidate an ad; an admin can", () => {
  const { store } = newStore();
  store.upsert("GlideFactory", "e1@f", { v: 1 }, alice, 900_000, T0);
  const r = store.upsert("GlideFactory", "e1@f", { v: 9 }, bob, 900_000, T0);
  assert.equal(r.ok, false);
  assert.equal(!r.ok && r.code, "not-owner");
  assert.equal(store.get("GlideFactory", "e1@f")?.ad.v, 1);
  assert.equal(store.invalidate("GlideFactory", "e1@f", bob).ok, false);
  assert.deepEqual(store.invalidate("GlideFactory", "e1@f", admin), { ok: true, removed: true });
  assert.equal(store.size, 0);
});

test("ads expire at their deadline, not before, and replacing pushes the deadline", () => {
  const { store, events } = newStore();
  store.upsert("Slot", "a", { v: 1 }, alice, 1000, T0);
  store.upsert("Slot", "b", { v: 1 }, alice, 2000, T0);
  store.upsert("Slot", "a", { v: 2 }, alice, 1000, T0 + 1500); // now due at T0 + 2500
  assert.equal(store.expire(T0 + 1999), 0);
  assert.equal(store.expire(T0 + 2000), 1);
  assert.equal(store.get("Slot", "b"), undefined);
  assert.equal(store.get("Slot", "a")?.ad.v, 2);
  assert.equal(store.nextDeadline(), T0 + 2500);
  assert.equal(store.expire(T0 + 2500), 1);
  assert.equal(store.size, 0);
  assert.equal(events.at(-1)?.kind, "expired");
});

test("an identity may hold at most its limit of ads; replacing its own ad does not count twice", () => {
  const { store } = newStore(2);
  assert.ok(store.upsert("Slot", "a", { v: 1 }, alice, 1000, T0).ok);
  assert.ok(store.upsert("Slot", "b", { v: 1 }, alice, 1000, T0).ok);
  assert.ok(store.upsert("Slot", "a", { v: 2 }, alice, 1000, T0).ok);
  const third = store.upsert("Slot", "c", { v: 1 }, alice, 1000, T0);
  assert.equal(!third.ok && third.code, "over-limit");
  store.invalidate("Slot", "a", alice);
  assert.ok(store.upsert("Slot", "c", { v: 1 }, alice, 1000, T0).ok);
  assert.ok(store.upsert("Slot", "d", { v: 1 }, admin, 1000, T0).ok);
});

test("select filters by type and predicate and honours the limit", () => {
  const { store } = newStore();
  for (let i = 0; i < 10; i++) store.upsert("Slot", `s${i}`, { v: i }, alice, 1000, T0);
  store.upsert("Scheduler", "schedd", { v: 100 }, alice, 1000, T0);
  assert.equal([...store.select("slot", (s) => s.ad.v % 2 === 0)].length, 5);
  assert.equal([...store.select("Slot", () => true, 3)].length, 3);
  assert.equal([...store.select(undefined, () => true)].length, 11);
  assert.deepEqual(Object.fromEntries(store.countsByType()), { Slot: 10, Scheduler: 1 });
});

test("the expiry queue pops in deadline order whatever the insertion order", () => {
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 0, max: 1e9 }), { maxLength: 300 }), (ats) => {
      const q = new ExpiryQueue();
      ats.forEach((at, i) => q.push({ key: String(i), at, generation: i }));
      const out: number[] = [];
      for (let e = q.pop(); e; e = q.pop()) out.push(e.at);
      assert.deepEqual(
        out,
        [...ats].sort((a, b) => a - b),
      );
    }),
  );
});

test("after many re-advertisements each ad expires exactly once", () => {
  const { store } = newStore();
  for (let round = 0; round < 50; round++) {
    for (let i = 0; i < 100; i++)
      store.upsert("Slot", `s${i}`, { v: round }, alice, 1000, T0 + round);
  }
  assert.equal(store.size, 100);
  assert.equal(store.expire(T0 + 49 + 1000), 100);
});

test("ads of a per-writer type are kept apart by writer: none can take a name from another", () => {
  const store = new AdStore<{ v: number }>({ maxAdsPerIdentity: 100 }, ["PilotCredential"]);
  const events: StoreEvent<{ v: number }>[] = [];
  store.subscribe((e) => events.push(e));
  assert.deepEqual(store.upsert("PilotCredential", "pilot-1", { v: 1 }, bob, 1000, T0), {
    ok: true,
    replaced: false,
  });
  // The name's real writer comes second and still gets its own ad, and replaces only that one.
  assert.equal(store.upsert("pilotcredential", "PILOT-1", { v: 2 }, alice, 1000, T0).ok, true);
  assert.deepEqual(store.upsert("PilotCredential", "pilot-1", { v: 3 }, alice, 1000, T0), {
    ok: true,
    replaced: true,
  });
  assert.equal(store.size, 2);
  assert.equal(store.get("PilotCredential", "pilot-1", alice.identity)?.ad.v, 3);
  assert.equal(store.get("PilotCredential", "pilot-1", bob.identity)?.ad.v, 1);
  assert.equal(store.get("PilotCredential", "pilot-1"), undefined, "no writer, no ad");
  const keys = [...store.select("PilotCredential", () => true)].map((s) => store.keyOf(s));
  assert.equal(new Set(keys).size, 2);
  // Each invalidates its own; another's is refused; an admin naming no owner removes them all.
  assert.deepEqual(store.invalidate("PilotCredential", "pilot-1", bob), {
    ok: true,
    removed: true,
  });
  assert.equal(store.get("PilotCredential", "pilot-1", alice.identity)?.ad.v, 3);
  store.upsert("PilotCredential", "pilot-1", { v: 4 }, bob, 1000, T0);
  assert.equal(store.invalidate("PilotCredential", "pilot-1", bob, alice.identity).ok, false);
  assert.deepEqual(store.invalidate("PilotCredential", "pilot-1", admin), {
    ok: true,
    removed: true,
  });
  assert.equal(store.size, 0);
  // Expiry follows each writer's own deadline.
  store.upsert("PilotCredential", "pilot-2", { v: 5 }, alice, 1000, T0);
  store.upsert("PilotCredential", "pilot-2", { v: 6 }, bob, 3000, T0);
  assert.equal(store.expire(T0 + 1000), 1);
  assert.equal(store.get("PilotCredential", "pilot-2", bob.identity)?.ad.v, 6);
  assert.deepEqual(
    events.filter((e) => e.kind !== "upserted").map((e) => [e.kind, e.ad.identity]),
    [
      ["invalidated", bob.identity],
      ["invalidated", alice.identity],
      ["invalidated", bob.identity],
      ["expired", alice.identity],
    ],
  );
});
