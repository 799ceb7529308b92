/**
 * The adapter's own book of pilots: one small JSON file per handle under `<stateDir>/records/`,
 * written before `sbatch` runs and updated after, each write atomic. A new adapter instance
 * (after a factory restart) reads back exactly what the old one knew; a job whose id was never
 * written is found again in squeue by its name and id, which say the handle (job-names.ts).
 */
import { mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { PilotStatus } from "../types.js";

export interface Staging {
  script: string;
  credentialFile?: string;
  /** A local command file copied to the login node (SSH mode). */
  command?: { from: string; to: string };
}

export interface PilotRecord {
  handle: string;
  intentId: number;
  submittedAt: number;
  /** The pilot's folder where Slurm runs it (local, or on the login node). */
  dir: string;
  /**
   * sbatch's arguments, kept to resubmit a refused pilot on release; for an array task the
   * array's, without `--array`.
   */
  sbatch: string[];
  /** A task of a job array: the array's key (its job name without the prefix) and task id. */
  array?: { key: string; task: number };
  jobId?: string;
  /**
   * What to stage and submit again, kept (0600, like the rest of the book) until sbatch gave a
   * job id. The credential is read again from the factory's file when it is needed.
   */
  staging?: Staging;
  /** The transport failed mid-submission: whether the job exists is decided by its name. */
  unconfirmed?: string;
  /** sbatch said no; the pilot is Held with this reason until released or removed. */
  refused?: { reason: string; recoverable: boolean };
  removed?: boolean;
  /** The settled outcome, once Slurm has forgotten the job. */
  final?: PilotStatus;
}

const HANDLE = /^\d+-[0-9a-f]{8}$/;

export function isHandle(s: string): boolean {
  return HANDLE.test(s);
}

export function createRecordBook(stateDir: string) {
  const root = join(stateDir, "records");
  mkdirSync(root, { recursive: true, mode: 0o700 });
  const cache = new Map<string, PilotRecord>();
  const file = (h: string): string => join(root, `${h}.json`);

  function get(handle: string): PilotRecord | undefined {
    if (!isHandle(handle)) return undefined;
    const hit = cache.get(handle);
    if (hit) return hit;
    try {
      const r = JSON.parse(readFileSync(file(handle), "utf8")) as PilotRecord;
      cache.set(handle, r);
      return r;
    } catch {
      return undefined;
    }
  }

  function put(r: PilotRecord): void {
    const tmp = `${file(r.handle)}.tmp`;
    writeFileSync(tmp, JSON.stringify(r), { mode: 0o600 });
    renameSync(tmp, file(r.handle));
    cache.set(r.handle, r);
  }

  return {
    get,
    put,
    update(handle: string, change: Partial<PilotRecord>): PilotRecord | undefined {
      const r = get(handle);
      if (!r) return undefined;
      const next = { ...r, ...change };
      put(next);
      return next;
    },
    all(): PilotRecord[] {
      let names: string[];
      try {
        names = readdirSync(root);
      } catch {
        return [];
      }
      return names
        .filter((n) => n.endsWith(".json"))
        .map((n) => get(n.slice(0, -5)))
        .filter((r): r is PilotRecord => r !== undefined);
    },
    remove(handle: string): void {
      cache.delete(handle);
      rmSync(file(handle), { force: true });
    },
  };
}
