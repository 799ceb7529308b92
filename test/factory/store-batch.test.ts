/**
 * Writes of many rows in one statement (real SQLite): every row lands whatever the count, and the
 * store's batched writes leave the database as one write per row would.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import Database from "better-sqlite3";
import { BatchStatement, ROWS_PER_RUN } from "../../src/factory/store-batch.js";
import { FactoryStore } from "../../src/factory/store.js";

const dir = mkdtempSync(join(tmpdir(), "updraft-store-batch-"));
after(() => rmSync(dir, { recursive: true, force: true }));

test("every row is written, for any number of rows up to and past a full run", () => {
  const db = new Database(join(dir, "rows.db"));
  try {
    db.exec("CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT NOT NULL)");
    const insert = new BatchStatement(db, 2, (values) => `INSERT INTO t (k, v) VALUES ${values}`);
    const take = new BatchStatement(
      db,
      1,
      (values) => `WITH gone(k) AS (VALUES ${values}) DELETE FROM t WHERE k IN gone RETURNING k`,
    );
    let next = 0;
    for (let n = 0; n <= 2 * ROWS_PER_RUN + 3; n++) {
      const keys = Array.from({ length: n }, () => next++);
      insert.run(keys.map((k) => [k, `v${k}`]));
      assert.equal((db.prepare("SELECT count(*) AS c FROM t").get() as { c: number }).c, n);
      const taken = take.all<{ k: number }>(keys.map((k) => [k])).map((r) => r.k);
      assert.deepEqual(
        taken.sort((a, b) => a - b),
        keys,
        `${n} rows`,
      );
    }
    assert.throws(() => insert.run([[1]]), /wrong width/);
  } finally {
    db.close();
  }
});

const intent = (client: string) => ({
  entry: "e1",
  client,
  frontend: "fe",
  securityClass: "main",
  credentialId: "c",
  gridtype: "local",
});

test("batched intents, state changes and client status read back as one write per row would leave them, and an unchanged status is not rewritten", () => {
  const file = join(dir, "factory.db");
  let store = new FactoryStore(file);
  try {
    const ids = store.recordIntents(
      Array.from({ length: 300 }, (_, i) => intent(`fe.g${i % 7}`)),
      10,
    );
    // An id given twice keeps its first handle; a pilot already submitted is not touched.
    store.recordSubmitted(
      [...ids.map((id) => ({ id, handle: `h${id}` })), { id: ids[0]!, handle: "again" }],
      20,
    );
    store.recordSubmitted([{ id: ids[1]!, handle: "late" }], 25);
    // The same pilot twice in one call: Running then Held, in that order. Another goes Running
    // and back to Idle within the call: its state changed, so its time moves.
    store.applyStates(
      [
        ...ids.slice(0, 200).map((id) => ({ id, state: "Running" as const })),
        { id: ids[0]!, state: "Held", holdReason: "quota", holdRecoverable: true },
        { id: ids[1]!, state: "Idle" },
        { id: ids[2]!, state: "Finished", exitCode: 3 },
        { id: ids[299]!, state: "Idle" },
      ],
      30,
    );
    store.transaction(() => {
      store.count("e1", "fe.g1", "submitted", 2);
      store.count("e1", "fe.g1", "submitted", 5);
    });
    const status = (client: string, reqIdle: number, at: number) => ({
      entry: "e1",
      client,
      frontend: "fe",
      reqIdle,
      reqMax: 10,
      limitsHit: "",
      at,
    });
    store.recordClientStatus([status("fe.g1", 1, 40), status("fe.g2", 2, 40)]);
    store.recordClientStatus([status("fe.g1", 3, 50), status("fe.g1", 4, 50)]);
    // Decided the same again: the row keeps the time it last changed.
    store.recordClientStatus([status("fe.g1", 4, 60), status("fe.g2", 2, 60)]);
    store.close();
    store = new FactoryStore(file);
    const rows = new Map(store.all().map((p) => [p.id, p]));
    const p0 = rows.get(ids[0]!)!;
    assert.deepEqual(
      [p0.handle, p0.state, p0.holdReason, p0.holdRecoverable, p0.stateChangedAt],
      ["h" + ids[0], "Held", "quota", true, 30],
    );
    const p1 = rows.get(ids[1]!)!;
    assert.deepEqual([p1.handle, p1.state, p1.stateChangedAt], ["h" + ids[1], "Idle", 30]);
    const p2 = rows.get(ids[2]!)!;
    assert.deepEqual([p2.state, p2.exitCode, p2.finishedAt], ["Finished", 3, 30]);
    // Idle to Idle is no change of state: the time it became Idle stays.
    assert.equal(rows.get(ids[299]!)!.stateChangedAt, 20);
    assert.equal(rows.get(ids[150]!)!.state, "Running");
    assert.equal(rows.get(ids[250]!)!.state, "Idle");
    assert.equal([...rows.values()].filter((p) => p.submittedAt === 20).length, 300);
    const counters = store.counters();
    const value = (client: string, name: string) =>
      counters.find((c) => c.client === client && c.name === name)?.value;
    assert.equal(value("fe.g1", "submitted"), 7);
    assert.deepEqual(
      store.clientStatuses().map((s) => [s.client, s.reqIdle, s.at]),
      [
        ["fe.g1", 4, 50],
        ["fe.g2", 2, 40],
      ],
    );
    assert.equal(store.live().length, 299);
  } finally {
    store.close();
  }
});
