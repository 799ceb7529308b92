/**
 * Each user name the `last-cn` map derives belongs to the first DN that used it, kept in SQLite
 * across restarts: a DN from another branch of the namespace (or another CA) whose last CN
 * happens to read the same is refused instead of inheriting the jobs. An operator who wants two
 * DNs to share a name says so in a mapfile.
 */
import type { Database as Db, Statement } from "better-sqlite3";

export type BindingResult = { ok: true } | { ok: false; boundTo: string };

export interface UserBindings {
  bind(user: string, identity: string, nowMs: number): BindingResult;
}

export function createUserBindings(db: Db): UserBindings {
  const get: Statement = db.prepare("SELECT identity FROM user_identities WHERE user = ?");
  const put: Statement = db.prepare(
    "INSERT OR IGNORE INTO user_identities (user, identity, since) VALUES (?, ?, ?)",
  );
  const known = new Map<string, string>();
  return {
    bind(user, identity, nowMs) {
      let boundTo = known.get(user);
      if (boundTo === undefined) {
        boundTo = (get.get(user) as { identity: string } | undefined)?.identity;
        if (boundTo === undefined) {
          put.run(user, identity, nowMs);
          boundTo = identity;
        }
        known.set(user, boundTo);
      }
      return boundTo === identity ? { ok: true } : { ok: false, boundTo };
    },
  };
}
