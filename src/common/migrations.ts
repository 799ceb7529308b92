/**
 * Numbered schema migrations for SQLite stores. Each migration runs in its own transaction
 * together with the bump of `PRAGMA user_version`, so a crash leaves the schema at a whole
 * version, never half-way. A database newer than the code is refused rather than guessed at.
 */
import type { Database } from "better-sqlite3";
import { UpdraftError } from "./errors.js";

export interface Migration {
  /** 1, 2, 3...: contiguous, in order. */
  version: number;
  /** What the step changes, for the log and for people reading the list. */
  description: string;
  up(db: Database): void;
}

export interface MigrationResult {
  from: number;
  to: number;
  applied: number[];
}

export class MigrationError extends UpdraftError {
  readonly code = "migration-failed";
  constructor(message: string) {
    super(message);
    this.name = "MigrationError";
  }
}

/** Check that versions run 1..n without gaps or repeats. */
export function validateMigrations(migrations: readonly Migration[]): void {
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) {
      throw new MigrationError(
        `migration #${i} has version ${m.version}; versions must be 1, 2, 3... in order`,
      );
    }
  });
}

export function schemaVersion(db: Database): number {
  return db.pragma("user_version", { simple: true }) as number;
}

/** Bring `db` to the newest version; returns which steps ran. */
export function migrate(db: Database, migrations: readonly Migration[]): MigrationResult {
  validateMigrations(migrations);
  const from = schemaVersion(db);
  const latest = migrations.length;
  if (from > latest) {
    throw new MigrationError(
      `database schema version ${from} is newer than this program knows (${latest}); ` +
        "run a newer version or restore a backup",
    );
  }
  const applied: number[] = [];
  for (const m of migrations.slice(from)) {
    db.transaction(() => {
      m.up(db);
      // user_version is stored in the database header, so it commits with the step.
      db.pragma(`user_version = ${m.version}`);
    }).immediate();
    applied.push(m.version);
  }
  return { from, to: latest, applied };
}
