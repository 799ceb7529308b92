/**
 * The schedd's SQLite store: the store of record for jobs. Every method that changes state is
 * called inside `tx()` by the queue, so one state change is one transaction.
 *
 * Durability: WAL with synchronous=NORMAL by default. A commit has been written to the WAL file
 * with write(2) before better-sqlite3 returns, so it is in the kernel's page cache and survives
 * the process being SIGKILLed at any instant; what NORMAL gives up is the fsync, i.e. the last
 * commits before a power cut or kernel crash. `durability: full` (synchronous=FULL) fsyncs every
 * commit for hosts where that matters, at the cost of one fsync per submit/claim/complete.
 */
import Database, { type Database as Db, type Statement } from "better-sqlite3";
import { migrate } from "../common/migrations.js";
import type { JobAttrs } from "./job-status.js";
import { pinnedWhere, type JobColumns } from "./query-columns.js";
import { SCHEDD_MIGRATIONS } from "./migrations.js";

export type Durability = "normal" | "full";

export interface StoredJob {
  cluster: number;
  proc: number;
  owner: string;
  status: number;
  attrs: JobAttrs;
}

export type LeaseState = "active" | "completed" | "lapsed" | "killed" | "released";

export interface StoredLease {
  id: string;
  cluster: number;
  proc: number;
  identity: string;
  state: LeaseState;
  expires: number;
  created: number;
  endReason: string | null;
}

interface LeaseRow {
  id: string;
  cluster: number;
  proc: number;
  identity: string;
  state: LeaseState;
  expires: number;
  created: number;
  end_reason: string | null;
}

export interface StoreOptions {
  durability?: Durability;
  /**
   * Group commit: changes made in one turn of the event loop share one COMMIT (each in its own
   * savepoint, so each is still all or nothing). Callers must `await committed()` before they
   * acknowledge anything. A failed COMMIT leaves memory ahead of the database, so it is fatal.
   */
  groupCommit?: boolean;
  onCommitFailure?: (err: unknown) => void;
  /**
   * Called after each COMMIT, before any caller waiting on `committed()` resumes: the schedd
   * writes the log lines of the committed changes here, so each is on record before the change
   * is acknowledged.
   */
  onCommit?: () => void;
}

interface Batch {
  done: Promise<void>;
  resolve: () => void;
  reject: (err: unknown) => void;
}

export class ScheddStore {
  readonly db: Db;
  private readonly s: Record<string, Statement>;
  private readonly groupCommit: boolean;
  private readonly onCommitFailure: (err: unknown) => void;
  private readonly onCommit: () => void;
  private batch: Batch | undefined;

  constructor(file: string, opts: StoreOptions | Durability = {}) {
    const o = typeof opts === "string" ? { durability: opts } : opts;
    const durability = o.durability ?? "normal";
    this.groupCommit = o.groupCommit ?? false;
    this.onCommitFailure =
      o.onCommitFailure ??
      ((err) => {
        throw err;
      });
    this.onCommit = o.onCommit ?? (() => undefined);
    this.db = new Database(file);
    this.db.pragma("journal_mode = WAL");
    this.db.pragma(`synchronous = ${durability === "full" ? "FULL" : "NORMAL"}`);
    this.db.pragma("foreign_keys = ON");
    // A bigger page cache, and checkpoints mostly from the daemon's timer (`checkpoint()`):
    // hot pages (lease and history tails) are rewritten many times in between and copied back
    // once, instead of a checkpoint every 1,000 pages inside some unlucky commit. The automatic
    // one stays as a backstop at 256 MB of WAL.
    this.db.pragma("cache_size = -65536");
    this.db.pragma("wal_autocheckpoint = 65536");
    migrate(this.db, SCHEDD_MIGRATIONS);
    const p = (sql: string) => this.db.prepare(sql);
    this.s = {
      begin: p("BEGIN IMMEDIATE"),
      commit: p("COMMIT"),
      rollback: p("ROLLBACK"),
      savepoint: p("SAVEPOINT change"),
      release: p("RELEASE change"),
      rollbackTo: p("ROLLBACK TO change"),
      nextCluster: p("SELECT COALESCE(MAX(id), 0) + 1 AS id FROM clusters"),
      reserve: p("INSERT INTO clusters (id, owner, created) VALUES (?, ?, ?)"),
      cluster: p("SELECT id, owner, submitted, created FROM clusters WHERE id = ?"),
      historyEnd: p("SELECT status, finished FROM history WHERE cluster = ? AND proc = ?"),
      markSubmitted: p("UPDATE clusters SET submitted = ? WHERE id = ?"),
      insertJob: p("INSERT INTO jobs (cluster, proc, owner, status, ad) VALUES (?, ?, ?, ?, ?)"),
      updateJob: p("UPDATE jobs SET status = ?, ad = ? WHERE cluster = ? AND proc = ?"),
      getJob: p("SELECT cluster, proc, owner, status, ad FROM jobs WHERE cluster = ? AND proc = ?"),
      deleteJob: p("DELETE FROM jobs WHERE cluster = ? AND proc = ?"),
      insertHistory: p(
        "INSERT INTO history (cluster, proc, owner, status, finished, ad) VALUES (?, ?, ?, ?, ?, ?)",
      ),
      insertLease: p(
        "INSERT INTO leases (id, cluster, proc, identity, state, expires, created) " +
          "VALUES (?, ?, ?, ?, 'active', ?, ?)",
      ),
      getLease: p("SELECT * FROM leases WHERE id = ?"),
      activeLeases: p("SELECT * FROM leases WHERE state = 'active'"),
      extendLease: p("UPDATE leases SET expires = ? WHERE id = ? AND state = 'active'"),
      endLease: p(
        "UPDATE leases SET state = ?, ended = ?, end_reason = ? WHERE id = ? AND state = 'active'",
      ),
      pruneLeases: p("DELETE FROM leases WHERE state <> 'active' AND ended < ?"),
      pruneHistory: p("DELETE FROM history WHERE finished < ?"),
      setUsage: p(
        "INSERT INTO usage (owner, value, at) VALUES (?, ?, ?) " +
          "ON CONFLICT (owner) DO UPDATE SET value = excluded.value, at = excluded.at",
      ),
    };
  }

  /** Run `fn` as one IMMEDIATE transaction (all or nothing). */
  tx<T>(fn: () => T): T {
    if (this.groupCommit) return this.inBatch(fn);
    // Prepared BEGIN/COMMIT rather than db.transaction(fn), which builds wrappers every call.
    this.s.begin!.run();
    try {
      const out = fn();
      this.s.commit!.run();
      this.onCommit();
      return out;
    } catch (err) {
      if (this.db.inTransaction) this.s.rollback!.run();
      throw err;
    }
  }

  private inBatch<T>(fn: () => T): T {
    if (this.batch === undefined) {
      this.s.begin!.run();
      let resolve!: () => void;
      let reject!: (err: unknown) => void;
      const done = new Promise<void>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      done.catch(() => undefined); // reported through onCommitFailure
      this.batch = { done, resolve, reject };
      setImmediate(() => this.flush());
    }
    this.s.savepoint!.run();
    try {
      const out = fn();
      this.s.release!.run();
      return out;
    } catch (err) {
      this.s.rollbackTo!.run();
      this.s.release!.run();
      throw err;
    }
  }

  /** Commit the open batch now (also called on close). */
  flush(): void {
    const batch = this.batch;
    if (batch === undefined) return;
    this.batch = undefined;
    try {
      this.s.commit!.run();
    } catch (err) {
      batch.reject(err);
      this.onCommitFailure(err);
      return;
    }
    try {
      this.onCommit();
    } finally {
      batch.resolve();
    }
  }

  /**
   * Resolves once every change made so far is committed. With nothing left to commit (changes
   * committed as they were made, or none), `onCommit` runs now, so the caller's log lines are
   * written before it answers in either mode.
   */
  committed(): Promise<void> {
    if (this.batch !== undefined) return this.batch.done;
    this.onCommit();
    return Promise.resolve();
  }

  reserveCluster(owner: string, nowMs: number): number {
    return this.tx(() => {
      const { id } = this.s.nextCluster!.get() as { id: number };
      this.s.reserve!.run(id, owner, nowMs);
      return id;
    });
  }

  cluster(id: number): { owner: string; submitted: number; created: number } | undefined {
    return this.s.cluster!.get(id) as
      { owner: string; submitted: number; created: number } | undefined;
  }

  /** How and when a job that left the queue ended, if history has it. */
  historyEnd(cluster: number, proc: number): { status: number; finished: number } | undefined {
    return this.s.historyEnd!.get(cluster, proc) as
      { status: number; finished: number } | undefined;
  }

  markSubmitted(id: number, count: number): void {
    this.s.markSubmitted!.run(count, id);
  }

  insertJob(job: StoredJob): void {
    this.s.insertJob!.run(job.cluster, job.proc, job.owner, job.status, JSON.stringify(job.attrs));
  }

  updateJob(cluster: number, proc: number, status: number, attrs: JobAttrs): void {
    this.s.updateJob!.run(status, JSON.stringify(attrs), cluster, proc);
  }

  getJob(cluster: number, proc: number): StoredJob | undefined {
    const row = this.s.getJob!.get(cluster, proc) as
      { cluster: number; proc: number; owner: string; status: number; ad: string } | undefined;
    return row && { ...row, attrs: JSON.parse(row.ad) as JobAttrs };
  }

  /** Leave the queue for history, in the caller's transaction. */
  moveToHistory(job: StoredJob, nowMs: number): void {
    this.s.deleteJob!.run(job.cluster, job.proc);
    this.s.insertHistory!.run(
      job.cluster,
      job.proc,
      job.owner,
      job.status,
      nowMs,
      JSON.stringify(job.attrs),
    );
  }

  /** A job of a late-materializing cluster kept out of the queue for now. */
  insertUnmaterialized(job: StoredJob): void {
    this.db
      .prepare(
        "INSERT INTO unmaterialized (cluster, proc, owner, status, ad) VALUES (?, ?, ?, ?, ?)",
      )
      .run(job.cluster, job.proc, job.owner, job.status, JSON.stringify(job.attrs));
  }

  /** The first `n` unmaterialized jobs of a cluster, lowest proc first, taken out of the table. */
  takeUnmaterialized(cluster: number, n: number): StoredJob[] {
    const rows = this.db
      .prepare(
        "SELECT cluster, proc, owner, status, ad FROM unmaterialized WHERE cluster = ? " +
          "ORDER BY proc LIMIT ?",
      )
      .all(cluster, n) as {
      cluster: number;
      proc: number;
      owner: string;
      status: number;
      ad: string;
    }[];
    const del = this.db.prepare("DELETE FROM unmaterialized WHERE cluster = ? AND proc = ?");
    for (const r of rows) del.run(cluster, r.proc);
    return rows.map((r) => ({ ...r, attrs: JSON.parse(r.ad) as JobAttrs }));
  }

  /** Rewrite the ads of a cluster's unmaterialized jobs (one proc, or all) that `change` alters. */
  changeUnmaterialized(
    cluster: number,
    proc: number | undefined,
    change: (attrs: JobAttrs) => JobAttrs | undefined,
  ): number {
    const rows = this.db
      .prepare("SELECT proc, ad FROM unmaterialized WHERE cluster = ? AND (? IS NULL OR proc = ?)")
      .all(cluster, proc ?? null, proc ?? null) as { proc: number; ad: string }[];
    const put = this.db.prepare("UPDATE unmaterialized SET ad = ? WHERE cluster = ? AND proc = ?");
    let n = 0;
    for (const r of rows) {
      const next = change(JSON.parse(r.ad) as JobAttrs);
      if (next === undefined) continue;
      put.run(JSON.stringify(next), cluster, r.proc);
      n++;
    }
    return n;
  }

  /** Drop a cluster's unmaterialized jobs (the cluster was removed); how many there were. */
  dropUnmaterialized(cluster: number): number {
    return this.db.prepare("DELETE FROM unmaterialized WHERE cluster = ?").run(cluster).changes;
  }

  isUnmaterialized(cluster: number, proc: number): boolean {
    return (
      this.db
        .prepare("SELECT 1 FROM unmaterialized WHERE cluster = ? AND proc = ?")
        .get(cluster, proc) !== undefined
    );
  }

  /** Clusters with unmaterialized jobs: how many, and the first one's ad (startup). */
  unmaterializedClusters(): { cluster: number; owner: string; count: number; ad: string }[] {
    return this.db
      .prepare(
        "SELECT cluster, owner, COUNT(*) AS count, MIN(ad) AS ad FROM unmaterialized GROUP BY cluster",
      )
      .all() as { cluster: number; owner: string; count: number; ad: string }[];
  }

  /** Every job in the queue, in id order (startup). */
  /** Every job in the queue, in id order, or those whose columns have the `pinned` values. */
  *allJobs(pinned?: Partial<JobColumns>): IterableIterator<StoredJob> {
    const where = pinnedWhere(pinned);
    const it = this.db
      .prepare(
        `SELECT cluster, proc, owner, status, ad FROM jobs ${where.sql} ORDER BY cluster, proc`,
      )
      .iterate(...where.params) as IterableIterator<{
      cluster: number;
      proc: number;
      owner: string;
      status: number;
      ad: string;
    }>;
    for (const row of it) yield { ...row, attrs: JSON.parse(row.ad) as JobAttrs };
  }

  /** Each owner's decayed usage as last charged (startup). */
  allUsage(): { owner: string; value: number; at: number }[] {
    return this.db.prepare("SELECT owner, value, at FROM usage").all() as {
      owner: string;
      value: number;
      at: number;
    }[];
  }

  setUsage(owner: string, value: number, at: number): void {
    this.s.setUsage!.run(owner, value, at);
  }

  /** History rows, newest first. */
  *history(limit: number, pinned?: Partial<JobColumns>): IterableIterator<StoredJob> {
    const where = pinnedWhere(pinned);
    const it = this.db
      .prepare(
        `SELECT cluster, proc, owner, status, ad FROM history ${where.sql} ` +
          "ORDER BY finished DESC, cluster DESC, proc DESC LIMIT ?",
      )
      .iterate(...where.params, limit <= 0 ? -1 : limit) as IterableIterator<{
      cluster: number;
      proc: number;
      owner: string;
      status: number;
      ad: string;
    }>;
    for (const row of it) yield { ...row, attrs: JSON.parse(row.ad) as JobAttrs };
  }

  insertLease(
    l: { id: string; cluster: number; proc: number; identity: string },
    expires: number,
    nowMs: number,
  ): void {
    this.s.insertLease!.run(l.id, l.cluster, l.proc, l.identity, expires, nowMs);
  }

  getLease(id: string): StoredLease | undefined {
    const row = this.s.getLease!.get(id) as LeaseRow | undefined;
    return row && fromLeaseRow(row);
  }

  activeLeases(): StoredLease[] {
    return (this.s.activeLeases!.all() as LeaseRow[]).map(fromLeaseRow);
  }

  extendLease(id: string, expires: number): void {
    this.s.extendLease!.run(expires, id);
  }

  endLease(id: string, state: Exclude<LeaseState, "active">, nowMs: number, reason: string): void {
    this.s.endLease!.run(state, nowMs, reason, id);
  }

  /** Forget ended leases older than `beforeMs` (their pilots are long gone). */
  pruneHistory(beforeMs: number): number {
    return this.s.pruneHistory!.run(beforeMs).changes;
  }

  pruneLeases(beforeMs: number): number {
    return this.s.pruneLeases!.run(beforeMs).changes;
  }

  /** Copy the WAL back into the database without waiting for readers (timer). */
  checkpoint(): void {
    this.flush();
    this.db.pragma("wal_checkpoint(PASSIVE)");
  }

  close(): void {
    this.flush();
    this.db.close();
  }
}

function fromLeaseRow(r: LeaseRow): StoredLease {
  return {
    id: r.id,
    cluster: r.cluster,
    proc: r.proc,
    identity: r.identity,
    state: r.state,
    expires: r.expires,
    created: r.created,
    endReason: r.end_reason,
  };
}
