/**
 * Per-owner spool quota (`sandbox.quota_mb`): the bytes the spool holds for an owner's jobs still
 * in the queue, inputs and outputs alike. History is not counted: a finished job's output goes by
 * itself after `keep_output_s`, and the owner could do nothing to free it sooner.
 *
 * Walking the spool for every chunk would cost a walk of all the owner's sandboxes per 256 KiB,
 * so the bytes are walked once per owner and then charged as chunks arrive. The charged figure
 * can only be high (deleted files are not subtracted), so before refusing, the spool is swept
 * (removed jobs lose their files now, not at the next timed sweep) and walked afresh: a refusal
 * always rests on what is on disk.
 */
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";

const NUMBER = /^(0|[1-9]\d*)$/;

export interface SpoolQuotaDeps {
  spoolDir: string;
  quotaBytes: number;
  /** Owner of a queued job, or of a cluster's queued jobs when `proc` is undefined. */
  ownerOf(cluster: number, proc: number | undefined): string | undefined;
  /** Drop the files of jobs gone from the queue (the timed sweep, run now). */
  sweep(): void;
}

export type QuotaCheck = { ok: true } | { ok: false; usedBytes: number; quotaBytes: number };

export class SpoolQuota {
  private readonly used = new Map<string, number>();

  constructor(private readonly d: SpoolQuotaDeps) {}

  /** May `owner` store `bytes` more? Charged when yes. */
  charge(owner: string, bytes: number): QuotaCheck {
    const cached = this.used.get(owner) ?? this.walk(owner);
    if (cached + bytes <= this.d.quotaBytes) {
      this.used.set(owner, cached + bytes);
      return { ok: true };
    }
    this.d.sweep();
    this.forget();
    const fresh = this.walk(owner);
    if (fresh + bytes > this.d.quotaBytes) {
      this.used.set(owner, fresh);
      return { ok: false, usedBytes: fresh, quotaBytes: this.d.quotaBytes };
    }
    this.used.set(owner, fresh + bytes);
    return { ok: true };
  }

  /** Add bytes that are stored whatever the quota says (outputs a pilot returns). */
  add(owner: string, bytes: number): void {
    const cached = this.used.get(owner);
    if (cached !== undefined) this.used.set(owner, cached + bytes);
  }

  /** Walk again next time (after a sweep deleted files). */
  forget(): void {
    this.used.clear();
  }

  /** Bytes on disk under the sandboxes of `owner`'s queued jobs. */
  walk(owner: string): number {
    let total = 0;
    for (const c of entries(this.d.spoolDir)) {
      if (!NUMBER.test(c)) continue;
      const cluster = Number(c);
      for (const p of entries(join(this.d.spoolDir, c))) {
        const proc = p === "shared" ? undefined : NUMBER.test(p) ? Number(p) : null;
        if (proc === null || this.d.ownerOf(cluster, proc) !== owner) continue;
        total += bytesUnder(join(this.d.spoolDir, c, p));
      }
    }
    return total;
  }
}

function entries(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** Bytes of the regular files under `dir` (symlinks are not followed, nor counted). */
function bytesUnder(dir: string): number {
  let total = 0;
  let list;
  try {
    list = readdirSync(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const e of list) {
    const path = join(dir, e.name);
    if (e.isDirectory()) total += bytesUnder(path);
    else if (e.isFile()) {
      try {
        total += statSync(path).size;
      } catch {
        // Gone between the listing and the stat: it holds nothing now.
      }
    }
  }
  return total;
}
