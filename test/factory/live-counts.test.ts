/** The store's live counts per entry and client follow every write (real SQLite). */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { FactoryStore } from "../../src/factory/store.js";

const dir = mkdtempSync(join(tmpdir(), "updraft-live-counts-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const intent = (entry: string, client: string) => ({
  entry,
  client,
  frontend: "fe",
  securityClass: "main",
  credentialId: "c",
  gridtype: "local",
});

/** What the counts would be if computed afresh from the live rows. */
function recount(store: FactoryStore): Record<string, Record<string, number[]>> {
  const out: Record<string, Record<string, number[]>> = {};
  for (const p of store.live()) {
    const c = ((out[p.entry] ??= {})[p.client] ??= [0, 0, 0]);
    c[p.state === "Running" ? 1 : p.state === "Held" ? 2 : 0]!++;
  }
  return out;
}

function kept(store: FactoryStore): Record<string, Record<string, number[]>> {
  const out: Record<string, Record<string, number[]>> = {};
  for (const [entry, e] of store.liveCounts()) {
    let sum = [0, 0, 0];
    for (const [client, c] of e.clients) {
      sum = [sum[0]! + c.idle, sum[1]! + c.running, sum[2]! + c.held];
      if (c.idle + c.running + c.held > 0)
        (out[entry] ??= {})[client] = [c.idle, c.running, c.held];
    }
    assert.deepEqual([e.total.idle, e.total.running, e.total.held], sum, `${entry} total`);
  }
  return out;
}

test("counts follow intents, submits, state changes, releases, terminal states and a reopen", () => {
  const file = join(dir, "factory.db");
  const store = new FactoryStore(file);
  const now = Date.now();
  const a = store.recordIntents([intent("e1", "c1"), intent("e1", "c1"), intent("e1", "c2")], now);
  const b = store.recordIntents([intent("e2", "c1")], now);
  assert.deepEqual(kept(store), { e1: { c1: [2, 0, 0], c2: [1, 0, 0] }, e2: { c1: [1, 0, 0] } });
  assert.equal(store.hasUnsubmitted(), true);

  store.recordSubmitted(
    a.slice(0, 2).map((id) => ({ id, handle: `h${id}` })),
    now,
  );
  assert.equal(store.hasUnsubmitted(), true, "two intents are still unsubmitted");
  store.recordSubmitted(
    [a[2]!, ...b].map((id) => ({ id, handle: `h${id}` })),
    now,
  );
  assert.equal(store.hasUnsubmitted(), false);
  store.applyStates(
    [
      { id: a[0]!, state: "Running" },
      { id: a[1]!, state: "Held", holdReason: "x", holdRecoverable: true },
      { id: b[0]!, state: "Finished", exitCode: 0 },
    ],
    now,
  );
  assert.deepEqual(kept(store), { e1: { c1: [0, 1, 1], c2: [1, 0, 0] } });
  assert.deepEqual(kept(store), recount(store));

  store.recordRelease(a[1]!, now + 1000, now);
  store.applyStates([{ id: a[0]!, state: "Running" }], now); // no change
  assert.deepEqual(kept(store), { e1: { c1: [1, 1, 0], c2: [1, 0, 0] } });
  store.applyStates([{ id: a[2]!, state: "Removed" }], now);
  assert.deepEqual(kept(store), recount(store));
  store.recordIntents([intent("e3", "c1")], now);
  // The live list the walk before read is not the one after a pilot became live.
  assert.deepEqual(kept(store), recount(store));
  store.close();

  const reopened = new FactoryStore(file);
  assert.deepEqual(kept(reopened), { e1: { c1: [1, 1, 0] }, e3: { c1: [1, 0, 0] } });
  assert.deepEqual(kept(reopened), recount(reopened));
  assert.equal(reopened.hasUnsubmitted(), true, "an intent left unsubmitted is found again");
  reopened.close();
});

test("a failed transaction leaves the counts as the database has them", () => {
  const store = new FactoryStore(join(dir, "rollback.db"));
  store.recordIntents([intent("e1", "c1")], Date.now());
  assert.throws(() =>
    store.transaction(() => {
      store.recordIntents([intent("e1", "c1"), intent("e1", "c2")], Date.now());
      throw new Error("boom");
    }),
  );
  assert.deepEqual(kept(store), { e1: { c1: [1, 0, 0] } });
  assert.deepEqual(kept(store), recount(store));
  store.close();
});

/** Live pilots per credential as the store keeps them, and as a walk of the live rows gives them. */
function perCredential(store: FactoryStore, entry: string, client: string) {
  const walked: Record<string, number> = {};
  for (const p of store.live()) {
    if (p.entry === entry && p.client === client)
      walked[p.credentialId] = (walked[p.credentialId] ?? 0) + 1;
  }
  return { kept: Object.fromEntries(store.liveByCredential(entry, client)), walked };
}

test("counts per credential follow intents and terminal states, and a reopen", () => {
  const file = join(dir, "factory-creds.db");
  const store = new FactoryStore(file);
  const now = Date.now();
  const withCred = (client: string, credentialId: string) => ({
    ...intent("e1", client),
    credentialId,
  });
  const ids = store.recordIntents(
    [withCred("c1", "k1"), withCred("c1", "k1"), withCred("c1", "k2"), withCred("c2", "k1")],
    now,
  );
  let c = perCredential(store, "e1", "c1");
  assert.deepEqual(c.kept, { k1: 2, k2: 1 });
  assert.deepEqual(c.kept, c.walked);
  store.recordSubmitted([{ id: ids[0]!, handle: "h0" }], now);
  store.applyStates(
    [
      { id: ids[0]!, state: "Running" },
      { id: ids[2]!, state: "Removed" },
    ],
    now,
  );
  c = perCredential(store, "e1", "c1");
  assert.deepEqual(c.kept, { k1: 2 }, "a state change keeps the credential's count");
  assert.deepEqual(c.kept, c.walked);
  store.applyStates([{ id: ids[0]!, state: "Finished", exitCode: 0 }], now);
  store.close();
  const reopened = new FactoryStore(file);
  c = perCredential(reopened, "e1", "c1");
  assert.deepEqual(c.kept, { k1: 1 });
  assert.deepEqual(c.kept, c.walked);
  assert.deepEqual(perCredential(reopened, "e1", "c2").kept, { k1: 1 });
  assert.deepEqual(perCredential(reopened, "e9", "c1").kept, {});
  reopened.close();
});

test("the live credential ids are those of the live pilots, after every kind of write", () => {
  const store = new FactoryStore(join(dir, "credentials.db"));
  try {
    const ids = (): string[] => [...store.liveCredentialIds()].sort();
    const fromRows = (): string[] => [...new Set(store.live().map((p) => p.credentialId))].sort();
    const [a, b, c] = store.recordIntents(
      [
        { ...intent("e1", "x"), credentialId: "k1" },
        { ...intent("e1", "x"), credentialId: "k2" },
        { ...intent("e2", "y"), credentialId: "k2" },
      ],
      1,
    );
    assert.deepEqual(ids(), ["k1", "k2"]);
    store.recordSubmitted([{ id: a!, handle: "h1" }], 2);
    store.applyStates([{ id: a!, state: "Finished" }], 3);
    assert.deepEqual(ids(), ["k2"]);
    store.applyStates([{ id: b!, state: "Removed" }], 4);
    assert.deepEqual(ids(), ["k2"]);
    assert.deepEqual(ids(), fromRows());
    store.applyStates([{ id: c!, state: "Lost" }], 5);
    assert.deepEqual(ids(), []);
    assert.deepEqual(ids(), fromRows());
  } finally {
    store.close();
  }
});
