/**
 * The file listing the process groups of a pilot's running jobs (UPDRAFT_JOB_GROUPS_FILE), one
 * per line, so that whatever started the pilot can end its jobs if the pilot dies.
 *
 * A job's group is appended the moment the job starts: one small write, no rename, so no job
 * runs unlisted. A job that ends only marks the list stale; the list is rewritten atomically
 * (temporary file, rename) at most once per turn of the pilot's loop. Before, every start and
 * every end rewrote and renamed the file, two renames per job, which on a busy file system were
 * among the pilot's largest costs per short job. A group stays listed at most until the next
 * turn after its job ended; by then its leader is reaped and the rest of the group killed.
 */
import { appendFileSync, renameSync, writeFileSync } from "node:fs";

export interface JobGroupsFile {
  /** A job's group started: listed at once. */
  started(pgid: number | undefined): void;
  /** A job ended: the list is rewritten at the next `flush`. */
  ended(): void;
  /** Rewrites the list from the groups still running, if a job ended since the last rewrite. */
  flush(running: () => Iterable<number>): void;
}

/** Writes go to `path`; without one nothing is kept. A failed write only loses the safety net. */
export function createJobGroupsFile(
  path: string | undefined,
  onError: (err: unknown) => void,
): JobGroupsFile {
  if (!path) return { started() {}, ended() {}, flush() {} };
  let stale = false;
  return {
    started(pgid) {
      if (pgid === undefined) return;
      try {
        appendFileSync(path, `${pgid}\n`, { mode: 0o600 });
      } catch (err) {
        onError(err);
      }
    },
    ended() {
      stale = true;
    },
    flush(running) {
      if (!stale) return;
      stale = false;
      try {
        writeFileSync(`${path}.tmp`, [...running()].map((g) => `${g}\n`).join(""), {
          mode: 0o600,
        });
        renameSync(`${path}.tmp`, path);
      } catch (err) {
        onError(err);
      }
    },
  };
}
