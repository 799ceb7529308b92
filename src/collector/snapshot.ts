/**
 * Optional warm restart: the store written to SQLite in one transaction, and read back at start
 * with each ad's LastHeardFrom and deadline as they were (ads that expired meanwhile are dropped).
 * HTCondor's collector keeps ads only in memory and daemons re-advertise; this only shortens the
 * gap after a restart.
 */
import Database from "better-sqlite3";
import type { ClassAd } from "../classad/index.js";
import { MigrationError } from "../common/migrations.js";
import { COLLECTOR_SET, projectAd } from "./ad-build.js";
import type { CollectorCore } from "./collector.js";

const SCHEMA_VERSION = 2;

export interface Snapshot {
  /** Write every ad (the collector's own ad excepted); returns how many. */
  save(core: CollectorCore): number;
  /** Restore the ads still alive; returns how many. */
  load(core: CollectorCore): number;
  close(): void;
}

interface Row {
  identity: string;
  last_heard: number;
  expires_at: number;
  attrs: string;
}

export function openSnapshot(path: string): Snapshot {
  const db = new Database(path);
  db.pragma("journal_mode = WAL");
  const version = db.pragma("user_version", { simple: true }) as number;
  if (version > SCHEMA_VERSION) {
    db.close();
    throw new MigrationError(
      `${path}: snapshot schema ${version} is newer than this collector knows`,
    );
  }
  // Keyed by writer too: ads of a per-writer type share a name (see store.ts).
  const table = (name: string) => `CREATE TABLE IF NOT EXISTS ${name} (
      type TEXT NOT NULL, name TEXT NOT NULL, identity TEXT NOT NULL,
      last_heard INTEGER NOT NULL, expires_at INTEGER NOT NULL, attrs TEXT NOT NULL,
      PRIMARY KEY (type, name, identity))`;
  if (version < 1) {
    db.exec(table("ads"));
  } else if (version < 2) {
    db.exec(`BEGIN; ${table("ads_v2")}; INSERT INTO ads_v2 SELECT type, name, identity,
      last_heard, expires_at, attrs FROM ads; DROP TABLE ads; ALTER TABLE ads_v2 RENAME TO ads;
      COMMIT`);
  }
  if (version < SCHEMA_VERSION) db.pragma(`user_version = ${SCHEMA_VERSION}`);
  const clear = db.prepare("DELETE FROM ads");
  const insert = db.prepare(
    "INSERT OR REPLACE INTO ads (type, name, identity, last_heard, expires_at, attrs) VALUES (?, ?, ?, ?, ?, ?)",
  );
  const saveAll = db.transaction((core: CollectorCore) => {
    clear.run();
    let n = 0;
    for (const s of core.store.select(undefined, (x) => x.type.toLowerCase() !== "collector")) {
      insert.run(
        s.type.toLowerCase(),
        s.name.toLowerCase(),
        s.identity,
        s.lastHeard,
        s.expiresAt,
        JSON.stringify(ownAttrs(s.ad)),
      );
      n++;
    }
    return n;
  });
  return {
    save: (core) => saveAll(core),
    load(core) {
      let n = 0;
      for (const row of db
        .prepare("SELECT identity, last_heard, expires_at, attrs FROM ads")
        .iterate() as Iterable<Row>) {
        const attrs = JSON.parse(row.attrs) as Record<string, string>;
        if (core.restore(attrs, row.identity, row.last_heard, row.expires_at)) n++;
      }
      return n;
    },
    close: () => db.close(),
  };
}

/** The ad without the attributes the collector sets (they come back from the columns). */
function ownAttrs(ad: ClassAd): Record<string, string> {
  const attrs = projectAd(ad, []);
  for (const name of Object.keys(attrs))
    if (COLLECTOR_SET.has(name.toLowerCase())) delete attrs[name];
  return attrs;
}
