/**
 * Sandboxes made once and used again: a finished job's sandbox, emptied down to an empty `tmp`,
 * is renamed to the next job's `dir_N` instead of being removed and a new one made. Making and
 * removing directories were among a pilot's largest costs per short job: on ext4 a new inode
 * is searched for past every one freed in the last seconds, so each `mkdir` and `rmdir` grows
 * dearer the more jobs a node runs, and a job's sandbox and `tmp` were two of each per job.
 *
 * What the next job finds is what a new sandbox holds: nothing but an empty `tmp`, with the
 * mode a new one gets. A sandbox that is not exactly that after emptying (the job changed its
 * mode or its `tmp`'s, made `tmp` a link or a file, left something that cannot be removed) is
 * removed as before; symbolic links are removed, never followed. No process of the job is left
 * to see the next one: the runner kills the job's whole process group as its leader exits.
 */
import { mkdirSync, renameSync, statSync } from "node:fs";
import { lstat, readdir, rename, rm } from "node:fs/promises";
import { dirname, join } from "node:path";

export interface SandboxStore {
  /** Makes `dir` for a new job: a spare sandbox renamed to it, or a new folder. */
  make(dir: string): void;
  /** The job in `dir` is over: its sandbox is emptied and kept, or removed. Never rejects. */
  release(dir: string): Promise<void>;
  /** Removes the spare sandboxes; the pilot is ending. */
  drain(): Promise<void>;
}

/** The folder inside a sandbox that is kept, emptied (the job's TMPDIR). */
export const SANDBOX_TMP = "tmp";

/** Keeps at most `maxSpares` emptied sandboxes. */
export function createSandboxStore(maxSpares: number): SandboxStore {
  const spares: string[] = [];
  let pending = 0;
  let serial = 0;
  /** A new sandbox's mode and owner, read from the first one made. */
  let fresh: { mode: number; uid: number } | undefined;
  const removeAll = (dir: string) => rm(dir, { recursive: true, force: true }).catch(() => {});

  async function emptied(dir: string): Promise<boolean> {
    const like = fresh;
    if (!like) return false;
    const same = (st: { mode: number; uid: number; isDirectory(): boolean }) =>
      st.isDirectory() && (st.mode & 0o7777) === like.mode && st.uid === like.uid;
    if (!same(await lstat(dir))) return false;
    let keptTmp = false;
    for (const name of await readdir(dir)) {
      if (name === SANDBOX_TMP && same(await lstat(join(dir, name)))) keptTmp = true;
      else await rm(join(dir, name), { recursive: true, force: true });
    }
    if (!keptTmp) return false;
    const tmp = join(dir, SANDBOX_TMP);
    for (const name of await readdir(tmp))
      await rm(join(tmp, name), { recursive: true, force: true });
    // Nothing the job made may be left for the next one: emptied means empty.
    const left = [...(await readdir(dir)), ...(await readdir(tmp))];
    return left.length === 1 && left[0] === SANDBOX_TMP;
  }

  return {
    make(dir) {
      const spare = spares.pop();
      if (spare !== undefined) {
        try {
          renameSync(spare, dir);
          return;
        } catch {
          void removeAll(spare);
        }
      }
      mkdirSync(dir, { recursive: true });
      if (!fresh) {
        const st = statSync(dir);
        fresh = { mode: st.mode & 0o7777, uid: st.uid };
      }
    },
    async release(dir) {
      if (spares.length + pending >= maxSpares) return removeAll(dir);
      pending++;
      try {
        if (await emptied(dir)) {
          const spare = join(dirname(dir), `spare_${++serial}`);
          await rename(dir, spare);
          spares.push(spare);
          return;
        }
      } catch {
        // Removed whole below, as a sandbox that is not used again.
      } finally {
        pending--;
      }
      await removeAll(dir);
    },
    async drain() {
      await Promise.all(spares.splice(0).map(removeAll));
    },
  };
}
