/**
 * How the store's transactions reach the disk (real SQLite, WAL): durable by default, relaxed only
 * where a caller says so, back to durable after each relaxed one, and never a durable write
 * folded into a relaxed transaction.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import Database from "better-sqlite3";
import { FactoryStore } from "../../src/factory/store.js";
import { pilotIntent } from "./pilot-intent.js";

const dir = mkdtempSync(join(tmpdir(), "updraft-store-durability-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const FULL = 2;
const NORMAL = 1;
const intent = pilotIntent();
const synchronous = (store: FactoryStore) => store.db.pragma("synchronous", { simple: true });

test("transactions are durable unless relaxed, and a relaxed one leaves the store durable", () => {
  const store = new FactoryStore(join(dir, "modes.db"));
  try {
    assert.equal(synchronous(store), FULL);
    let inside: unknown;
    store.transaction(() => {
      inside = synchronous(store);
      store.count("e", "c", "submitted");
    }, "relaxed");
    assert.equal(inside, NORMAL);
    assert.equal(synchronous(store), FULL);
    store.transaction(() => {
      inside = synchronous(store);
      store.count("e", "c", "submitted");
    });
    assert.equal(inside, FULL);
    // A relaxed transaction that throws is rolled back and still leaves the store durable.
    assert.throws(() =>
      store.transaction(() => {
        store.count("e", "c", "submitted");
        throw new Error("boom");
      }, "relaxed"),
    );
    assert.equal(synchronous(store), FULL);
    assert.deepEqual(
      store.counters().map((c) => c.value),
      [2],
    );
  } finally {
    store.close();
  }
});

test("intents are never recorded inside a relaxed transaction", () => {
  const store = new FactoryStore(join(dir, "intents.db"));
  try {
    assert.throws(
      () => store.transaction(() => store.recordIntents([intent], 1), "relaxed"),
      /durable write inside a relaxed transaction/,
    );
    assert.deepEqual(store.live(), []);
    assert.equal(store.all().length, 0);
    // Inside a durable transaction, or on their own, they are recorded.
    store.transaction(() => store.recordIntents([intent], 1));
    store.recordIntents([intent], 2);
    assert.equal(store.all().length, 2);
  } finally {
    store.close();
  }
});

test("a relaxed commit is in the database when the factory's process is gone", () => {
  const file = join(dir, "reopen.db");
  const store = new FactoryStore(file);
  const [id] = store.recordIntents([intent], 1);
  store.transaction(() => store.recordSubmitted([{ id: id!, handle: "h1" }], 2), "relaxed");
  // Another connection, as a restarted factory would open, reads it without the first closing.
  const other = new Database(file, { readonly: true });
  try {
    const row = other.prepare("SELECT handle, state FROM pilots WHERE id = ?").get(id) as {
      handle: string;
      state: string;
    };
    assert.deepEqual({ ...row }, { handle: "h1", state: "Idle" });
  } finally {
    other.close();
    store.close();
  }
});
