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

test("step 7 keeps every job, finished job and unmaterialized job, and (cluster, proc) stays unique", () => {
  const db = new Database(":memory:");
  migrate(db, SCHEDD_MIGRATIONS.slice(0, 6));
  db.prepare("INSERT INTO jobs VALUES (1, 0, 'alice', 1, '{\"A\":\"1\"}')").run();
  db.prepare("INSERT INTO jobs VALUES (1, 1, 'alice', 2, '{\"A\":\"2\"}')").run();
  db.prepare("INSERT INTO history VALUES (2, 0, 'bob', 4, 99, '{\"B\":\"1\"}')").run();
  db.prepare("INSERT INTO unmaterialized VALUES (3, 5, 'carol', 1, '{\"C\":\"1\"}')").run();
  assert.deepEqual(migrate(db, SCHEDD_MIGRATIONS.slice(0, 7)), { from: 6, to: 7, applied: [7] });
  assert.deepEqual(db.prepare("SELECT cluster, proc, owner, status, ad FROM jobs").all(), [
    { cluster: 1, proc: 0, owner: "alice", status: 1, ad: '{"A":"1"}' },
    { cluster: 1, proc: 1, owner: "alice", status: 2, ad: '{"A":"2"}' },
  ]);
  assert.deepEqual(db.prepare("SELECT * FROM history").all(), [
    { cluster: 2, proc: 0, owner: "bob", status: 4, finished: 99, ad: '{"B":"1"}' },
  ]);
  assert.deepEqual(db.prepare("SELECT cluster, proc, owner FROM unmaterialized").all(), [
    { cluster: 3, proc: 5, owner: "carol" },
  ]);
  assert.throws(
    () => db.prepare("INSERT INTO jobs VALUES (1, 0, 'alice', 1, '{}')").run(),
    /UNIQUE constraint/,
  );
  const finished = db.prepare("SELECT name FROM sqlite_master WHERE name = 'history_finished'");
  assert.ok(finished.get(), "history keeps its index on finished");
});
