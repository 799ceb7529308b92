/**
 * A small numbered-migration runner for the factory's SQLite database. Each migration runs once,
 * in order, in its own transaction, and `user_version` records how far the file has come.
 * (Kept here until a shared runner exists in src/common/.)
 */
import type { Database } from "better-sqlite3";

export interface Migration {
  version: number;
  sql: string;
}

export function migrate(db: Database, migrations: readonly Migration[]): number {
  const current = db.pragma("user_version", { simple: true }) as number;
  const sorted = [...migrations].sort((a, b) => a.version - b.version);
  sorted.forEach((m, i) => {
    if (m.version !== i + 1) throw new Error(`migration ${i + 1} is missing`);
  });
  let version = current;
  for (const m of sorted) {
    if (m.version <= current) continue;
    db.transaction(() => {
      db.exec(m.sql);
      db.pragma(`user_version = ${m.version}`);
    })();
    version = m.version;
  }
  return version;
}
