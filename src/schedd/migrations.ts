/** The schedd's schema, one numbered step at a time (never edit a released step; add one). */
import type { Migration } from "../common/migrations.js";

export const SCHEDD_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: "clusters, jobs, history",
    up(db) {
      db.exec(`
        CREATE TABLE clusters (
          id INTEGER PRIMARY KEY,
          owner TEXT NOT NULL,
          created INTEGER NOT NULL,
          -- number of jobs queued; 0 while reserved and not yet submitted
          submitted INTEGER NOT NULL DEFAULT 0
        );
        CREATE TABLE jobs (
          cluster INTEGER NOT NULL,
          proc INTEGER NOT NULL,
          owner TEXT NOT NULL,
          status INTEGER NOT NULL,
          ad TEXT NOT NULL,
          PRIMARY KEY (cluster, proc)
        ) WITHOUT ROWID;
        CREATE TABLE history (
          cluster INTEGER NOT NULL,
          proc INTEGER NOT NULL,
          owner TEXT NOT NULL,
          status INTEGER NOT NULL,
          finished INTEGER NOT NULL,
          ad TEXT NOT NULL,
          PRIMARY KEY (cluster, proc)
        ) WITHOUT ROWID;
        CREATE INDEX history_finished ON history (finished);
      `);
    },
  },
  {
    version: 2,
    description: "job leases to pilots",
    up(db) {
      db.exec(`
        CREATE TABLE leases (
          id TEXT PRIMARY KEY,
          cluster INTEGER NOT NULL,
          proc INTEGER NOT NULL,
          identity TEXT NOT NULL,
          state TEXT NOT NULL CHECK (state IN ('active', 'completed', 'lapsed', 'killed')),
          expires INTEGER NOT NULL,
          created INTEGER NOT NULL,
          ended INTEGER,
          end_reason TEXT
        ) WITHOUT ROWID;
        -- A job has at most one live lease: the schema itself refuses a double hand-out.
        CREATE UNIQUE INDEX leases_one_active ON leases (cluster, proc) WHERE state = 'active';
      `);
    },
  },
  {
    version: 3,
    description: "leases handed back early by their pilot (state 'released')",
    up(db) {
      // SQLite cannot change a CHECK constraint in place: rebuild the table, rows kept.
      db.exec(`
        CREATE TABLE leases_v3 (
          id TEXT PRIMARY KEY,
          cluster INTEGER NOT NULL,
          proc INTEGER NOT NULL,
          identity TEXT NOT NULL,
          state TEXT NOT NULL
            CHECK (state IN ('active', 'completed', 'lapsed', 'killed', 'released')),
          expires INTEGER NOT NULL,
          created INTEGER NOT NULL,
          ended INTEGER,
          end_reason TEXT
        ) WITHOUT ROWID;
        INSERT INTO leases_v3 SELECT id, cluster, proc, identity, state, expires, created, ended,
          end_reason FROM leases;
        DROP TABLE leases;
        ALTER TABLE leases_v3 RENAME TO leases;
        CREATE UNIQUE INDEX leases_one_active ON leases (cluster, proc) WHERE state = 'active';
      `);
    },
  },
  {
    version: 4,
    description: "fair-share usage per owner, kept across restarts",
    up(db) {
      db.exec(`
        CREATE TABLE usage (
          owner TEXT PRIMARY KEY,
          value REAL NOT NULL,
          at INTEGER NOT NULL
        ) WITHOUT ROWID;
      `);
    },
  },
  {
    version: 5,
    description: "each last-cn user name bound to the first DN that used it",
    up(db) {
      db.exec(`
        CREATE TABLE user_identities (
          user TEXT PRIMARY KEY,
          identity TEXT NOT NULL,
          since INTEGER NOT NULL
        ) WITHOUT ROWID;
      `);
    },
  },
  {
    version: 6,
    description: "late materialization: the jobs of a cluster not yet in the queue",
    up(db) {
      db.exec(`
        CREATE TABLE unmaterialized (
          cluster INTEGER NOT NULL,
          proc INTEGER NOT NULL,
          owner TEXT NOT NULL,
          status INTEGER NOT NULL,
          ad TEXT NOT NULL,
          PRIMARY KEY (cluster, proc)
        ) WITHOUT ROWID;
      `);
    },
  },
  {
    version: 7,
    description: "jobs, history and unmaterialized jobs as rowid tables",
    up(db) {
      // A WITHOUT ROWID table suits rows of a few dozen bytes; these hold whole job ads of
      // several hundred, and each claim and completion rewrote a tree of few rows per page.
      // As rowid tables the ads sit in the leaves and (cluster, proc) in a small unique index:
      // a claim+complete cycle writes about half the pages it did.
      for (const [table, extra] of [
        ["jobs", ""],
        ["history", "finished INTEGER NOT NULL,"],
        ["unmaterialized", ""],
      ] as const) {
        const cols = `cluster, proc, owner, status, ${extra === "" ? "" : "finished, "}ad`;
        db.exec(`
          CREATE TABLE ${table}_v7 (
            cluster INTEGER NOT NULL,
            proc INTEGER NOT NULL,
            owner TEXT NOT NULL,
            status INTEGER NOT NULL,
            ${extra}
            ad TEXT NOT NULL,
            PRIMARY KEY (cluster, proc)
          );
          INSERT INTO ${table}_v7 (${cols}) SELECT ${cols} FROM ${table} ORDER BY cluster, proc;
          DROP TABLE ${table};
          ALTER TABLE ${table}_v7 RENAME TO ${table};
        `);
      }
      db.exec("CREATE INDEX history_finished ON history (finished);");
    },
  },
];
