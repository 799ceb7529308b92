import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import Database from "better-sqlite3";
import {
  MigrationError,
  migrate,
  schemaVersion,
  type Migration,
} from "../../src/common/migrations.js";
import { SCHEDD_MIGRATIONS } from "../../src/schedd/migrations.js";
import { ScheddStore } from "../../src/schedd/store.js";

const steps: Migration[] = [
  { version: 1, description: "t", up: (db) => db.exec("CREATE TABLE t (a INTEGER)") },
  { version: 2, description: "t.b", up: (db) => db.exec("ALTER TABLE t ADD COLUMN b TEXT") },
];

test("migrations run in order once, and record the version", () => {
  const db = new Database(":memory:");
  assert.deepEqual(migrate(db, steps.slice(0, 1)), { from: 0, to: 1, applied: [1] });
  assert.deepEqual(migrate(db, steps), { from: 1, to: 2, applied: [2] });
  assert.deepEqual(migrate(db, steps), { from: 2, to: 2, applied: [] });
  assert.equal(schemaVersion(db), 2);
  db.prepare("INSERT INTO t (a, b) VALUES (1, 'x')").run();
});

test("a failing step rolls back whole and leaves the version where it was", () => {
  const db = new Database(":memory:");
  const broken: Migration[] = [
    steps[0]!,
    {
      version: 2,
      description: "half then fail",
      up: (d) => {
        d.exec("CREATE TABLE u (x INTEGER)");
        throw new Error("boom");
      },
    },
  ];
  assert.throws(() => migrate(db, broken), /boom/);
  assert.equal(schemaVersion(db), 1);
  assert.equal(db.prepare("SELECT name FROM sqlite_master WHERE name = 'u'").get(), undefined);
});

test("gaps are refused, and so is a database newer than the code", () => {
  const db = new Database(":memory:");
  assert.throws(() => migrate(db, [steps[1]!]), MigrationError);
  migrate(db, steps);
  assert.throws(() => migrate(db, steps.slice(0, 1)), /newer than this program/);
});

test("the schedd store comes up at the latest schema, in WAL mode, and reopens", () => {
  const dir = mkdtempSync(join(tmpdir(), "updraft-mig-"));
  try {
    const file = join(dir, "q.sqlite");
    let store = new ScheddStore(file);
    assert.equal(schemaVersion(store.db), SCHEDD_MIGRATIONS.length);
    assert.equal(store.db.pragma("journal_mode", { simple: true }), "wal");
    assert.equal(store.reserveCluster("alice", 0), 1);
    store.close();
    store = new ScheddStore(file, "full");
    assert.equal(store.db.pragma("synchronous", { simple: true }), 2);
    assert.equal(store.reserveCluster("alice", 0), 2);
    store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("step 3 keeps every lease of a version-2 queue and admits the 'released' state", () => {
  const db = new Database(":memory:");
  migrate(db, SCHEDD_MIGRATIONS.slice(0, 2));
  const insert = db.prepare(
    "INSERT INTO leases (id, cluster, proc, identity, state, expires, created) " +
      "VALUES (?, 1, ?, 'p', ?, 10, 1)",
  );
  insert.run("a", 0, "active");
  insert.run("b", 1, "lapsed");
  assert.throws(() => insert.run("c", 2, "released"), /CHECK constraint/);
  assert.deepEqual(migrate(db, SCHEDD_MIGRATIONS.slice(0, 3)), { from: 2, to: 3, applied: [3] });
  const rows = db.prepare("SELECT id, state FROM leases ORDER BY id").all();
  assert.deepEqual(rows, [
    { id: "a", state: "active" },
    { id: "b", state: "lapsed" },
  ]);
  insert.run("c", 2, "released");
  // Still at most one live lease per job.
  assert.throws(() => insert.run("d", 0, "active"), /UNIQUE constraint/);
});
