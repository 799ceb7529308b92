import type { Migration } from "../common/migrations.js";

/** The factory database's schema, one numbered step at a time; never edit a released step. */
export const FACTORY_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: "pilots (submit intents included), downtimes, counters and last errors",
    up: (db) =>
      db.exec(`
      CREATE TABLE pilots (
        id INTEGER PRIMARY KEY,
        entry TEXT NOT NULL,
        client TEXT NOT NULL,
        frontend TEXT NOT NULL,
        security_class TEXT NOT NULL,
        credential_id TEXT NOT NULL,
        gridtype TEXT NOT NULL,
        handle TEXT,
        state TEXT NOT NULL,
        waiting INTEGER NOT NULL DEFAULT 0,
        hold_reason TEXT,
        hold_recoverable INTEGER NOT NULL DEFAULT 0,
        releases INTEGER NOT NULL DEFAULT 0,
        next_release_at INTEGER,
        remove_reason TEXT,
        created_at INTEGER NOT NULL,
        submitted_at INTEGER,
        state_changed_at INTEGER NOT NULL,
        finished_at INTEGER,
        exit_code INTEGER,
        outcome TEXT
      );
      -- Handles are unique per adapter instance, and each entry has its own.
      CREATE UNIQUE INDEX pilots_handle ON pilots(entry, handle) WHERE handle IS NOT NULL;
      -- No index on state: live pilots are read once at start and then kept in memory, and
      -- every state change would have to update such an index.
      CREATE INDEX pilots_unfetched ON pilots(state) WHERE state = 'Finished' AND outcome IS NULL;

      CREATE TABLE downtimes (
        id INTEGER PRIMARY KEY,
        entry TEXT NOT NULL,
        frontend TEXT,
        start_at INTEGER NOT NULL,
        end_at INTEGER,
        comment TEXT NOT NULL DEFAULT '',
        created_at INTEGER NOT NULL
      );

      CREATE TABLE counters (
        entry TEXT NOT NULL,
        client TEXT NOT NULL,
        name TEXT NOT NULL,
        value INTEGER NOT NULL,
        PRIMARY KEY (entry, client, name)
      );
      CREATE TABLE last_errors (
        entry TEXT NOT NULL,
        client TEXT NOT NULL,
        at INTEGER NOT NULL,
        message TEXT NOT NULL,
        PRIMARY KEY (entry, client)
      );
    `),
  },
  {
    version: 2,
    description: "last decision per (entry, client) for 'updraft factory status'",
    up: (db) =>
      db.exec(`
      -- What the last cycle decided per (entry, client), for 'updraft factory status'.
      CREATE TABLE client_status (
        entry TEXT NOT NULL,
        client TEXT NOT NULL,
        frontend TEXT NOT NULL,
        req_idle INTEGER NOT NULL,
        req_max INTEGER NOT NULL,
        limits_hit TEXT NOT NULL,
        refused TEXT,
        at INTEGER NOT NULL,
        PRIMARY KEY (entry, client)
      );
    `),
  },
  {
    version: 3,
    description: "index pilots by credential, so a single-pilot token is never handed out twice",
    up: (db) => db.exec(`CREATE INDEX pilots_credential ON pilots(credential_id);`),
  },
  {
    version: 4,
    description: "each entry's last failed pilots, so the pool page lists them across a restart",
    up: (db) =>
      db.exec(`
      -- A few rows per entry (recent-failures.ts RECENT_PER_ENTRY), trimmed as each is added.
      CREATE TABLE recent_failures (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        entry TEXT NOT NULL,
        at INTEGER NOT NULL,
        client TEXT NOT NULL,
        failure_class TEXT NOT NULL,
        message TEXT NOT NULL
      );
      CREATE INDEX recent_failures_entry ON recent_failures(entry, id);
    `),
  },
];
