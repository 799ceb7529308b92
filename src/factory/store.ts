/**
 * The factory's durable state in SQLite (WAL): every pilot from intent to outcome, downtimes,
 * and per (entry, client) counters. Every change that must survive a crash is one transaction;
 * the submit protocol (see submitter.ts) relies on intents being on disk before any submit.
 */
import Database, { type Database as Db } from "better-sqlite3";
import type { Downtime, PilotState } from "./decide-types.js";
import { migrate } from "../common/migrations.js";
import { HeldCounts } from "./held-counts.js";
import { type EntryCounts, LiveCounts } from "./live-counts.js";
import type { RecentFailure } from "./recent-failures.js";
import { BatchStatement } from "./store-batch.js";
import { FACTORY_MIGRATIONS } from "./store-schema.js";

export interface PilotIntent {
  entry: string;
  client: string;
  frontend: string;
  securityClass: string;
  credentialId: string;
  gridtype: string;
}

export interface PilotRow extends PilotIntent {
  id: number;
  handle: string | null;
  state: PilotState;
  waiting: boolean;
  holdReason: string | null;
  holdRecoverable: boolean;
  releases: number;
  nextReleaseAt: number | null;
  removeReason: string | null;
  createdAt: number;
  submittedAt: number | null;
  stateChangedAt: number;
  finishedAt: number | null;
  exitCode: number | null;
  outcome: string | null;
}

export interface ClientStatusRow {
  entry: string;
  client: string;
  frontend: string;
  reqIdle: number;
  reqMax: number;
  limitsHit: string;
  refused?: string;
  /** When the status last changed (a cycle deciding the same again leaves it). */
  at: number;
}

export interface CounterRow {
  entry: string;
  client: string;
  name: string;
  value: number;
}

export interface StateChange {
  id: number;
  state: PilotState;
  waiting?: boolean;
  holdReason?: string | null;
  holdRecoverable?: boolean;
  exitCode?: number | null;
}

interface RawPilot {
  id: number;
  entry: string;
  client: string;
  frontend: string;
  security_class: string;
  credential_id: string;
  gridtype: string;
  handle: string | null;
  state: PilotState;
  waiting: number;
  hold_reason: string | null;
  hold_recoverable: number;
  releases: number;
  next_release_at: number | null;
  remove_reason: string | null;
  created_at: number;
  submitted_at: number | null;
  state_changed_at: number;
  finished_at: number | null;
  exit_code: number | null;
  outcome: string | null;
}

function toRow(r: RawPilot): PilotRow {
  return {
    id: r.id,
    entry: r.entry,
    client: r.client,
    frontend: r.frontend,
    securityClass: r.security_class,
    credentialId: r.credential_id,
    gridtype: r.gridtype,
    handle: r.handle,
    state: r.state,
    waiting: r.waiting === 1,
    holdReason: r.hold_reason,
    holdRecoverable: r.hold_recoverable === 1,
    releases: r.releases,
    nextReleaseAt: r.next_release_at,
    removeReason: r.remove_reason,
    createdAt: r.created_at,
    submittedAt: r.submitted_at,
    stateChangedAt: r.state_changed_at,
    finishedAt: r.finished_at,
    exitCode: r.exit_code,
    outcome: r.outcome,
  };
}

const TERMINAL = new Set<PilotState>(["Finished", "Removed", "Lost"]);

interface RawClientStatus {
  entry: string;
  client: string;
  frontend: string;
  req_idle: number;
  req_max: number;
  limits_hit: string;
  refused: string | null;
  at: number;
}

function toStatus(r: RawClientStatus): ClientStatusRow {
  return {
    entry: r.entry,
    client: r.client,
    frontend: r.frontend,
    reqIdle: r.req_idle,
    reqMax: r.req_max,
    limitsHit: r.limits_hit,
    refused: r.refused ?? undefined,
    at: r.at,
  };
}

/**
 * A map key of an entry and a client name. Only the client name comes from outside and the
 * entry's, from the configuration, holds no NUL, so no two pairs join into one key.
 */
const pairKey = (...parts: string[]): string => parts.join("\u0000");

/** The same status, whenever it was decided. */
const sameStatus = (a: ClientStatusRow, b: ClientStatusRow): boolean =>
  a.frontend === b.frontend &&
  a.reqIdle === b.reqIdle &&
  a.reqMax === b.reqMax &&
  a.limitsHit === b.limitsHit &&
  (a.refused ?? null) === (b.refused ?? null);

/** SQLite's default (binary) order of text, for rows that used to come ORDER BY. */
const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

export class FactoryStore {
  readonly db: Db;
  private readonly st;
  /**
   * Live pilots, kept in memory in step with every write: each cycle reads them several times
   * and reading 100,000 rows from SQLite each time would be most of a cycle's cost. Reloaded
   * from the database whenever a transaction fails.
   */
  private liveRows = new Map<number, PilotRow>();
  /**
   * `liveRows` as an array, made when first asked for after a pilot became live or stopped
   * being live: a cycle reads it four times (poll, two housekeeping passes, decide), and
   * copying 100,000 rows each time was garbage for nothing, since the rows themselves change
   * in place.
   */
  private liveList: PilotRow[] | undefined;
  /** `liveRows` counted per entry and client, changed wherever a live row is. */
  private readonly counts = new LiveCounts();
  /** Held live pilots counted by entry and hold reason's shape, changed with `liveRows`. */
  private readonly held = new HeldCounts();
  /**
   * The counters and client status tables, mirrored like the live pilots: each cycle and each
   * scrape of /metrics reads them whole (tens of thousands of rows at 500 entries and 20
   * clients), and they change a few rows at a time.
   */
  private counterRows = new Map<string, Map<string, CounterRow>>();
  private statusRows = new Map<string, ClientStatusRow>();
  /** Whether the transaction under way commits relaxed (see `transaction`). */
  private relaxedCommit = false;

  constructor(file: string) {
    this.db = new Database(file);
    this.db.pragma("journal_mode = WAL");
    // FULL: an intent must be on disk before the submit it guards. Transactions that may be
    // relaxed say so (see `transaction`).
    this.db.pragma("synchronous = FULL");
    this.db.pragma("busy_timeout = 5000");
    migrate(this.db, FACTORY_MIGRATIONS);
    const db = this.db;
    this.st = {
      intents: new BatchStatement(
        db,
        10,
        (values) => `INSERT INTO pilots (id, entry, client, frontend, security_class,
          credential_id, gridtype, state, created_at, state_changed_at) VALUES ${values}`,
      ),
      maxId: db.prepare(`SELECT coalesce(max(id), 0) AS id FROM pilots`),
      submitted: db.prepare(
        `UPDATE pilots SET handle = ?, state = 'Idle', submitted_at = ?, state_changed_at = ?
         WHERE id = ? AND state = 'Unsubmitted'`,
      ),
      setStates: new BatchStatement(
        db,
        8,
        (values) => `WITH change(id, state, waiting, hold_reason, hold_recoverable, exit_code,
            terminal, at) AS (VALUES ${values})
          UPDATE pilots SET state = change.state, waiting = change.waiting,
            hold_reason = change.hold_reason, hold_recoverable = change.hold_recoverable,
            exit_code = coalesce(change.exit_code, pilots.exit_code),
            state_changed_at = CASE WHEN pilots.state = change.state
              THEN pilots.state_changed_at ELSE change.at END,
            finished_at = CASE WHEN change.terminal = 1
              THEN coalesce(pilots.finished_at, change.at) ELSE pilots.finished_at END
          FROM change WHERE pilots.id = change.id`,
      ),
      removeReason: db.prepare(`UPDATE pilots SET remove_reason = ? WHERE id = ?`),
      released: db.prepare(
        `UPDATE pilots SET releases = releases + 1, next_release_at = ?, state = 'Idle',
           hold_reason = NULL, state_changed_at = ? WHERE id = ?`,
      ),
      outcome: db.prepare(`UPDATE pilots SET outcome = ? WHERE id = ?`),
      live: db.prepare(
        `SELECT * FROM pilots WHERE state IN ('Unsubmitted', 'Idle', 'Running', 'Held')`,
      ),
      byState: db.prepare(`SELECT * FROM pilots WHERE state = ?`),
      unfetched: db.prepare(`SELECT * FROM pilots WHERE state = 'Finished' AND outcome IS NULL`),
      get: db.prepare(`SELECT * FROM pilots WHERE id = ?`),
      all: db.prepare(`SELECT * FROM pilots ORDER BY id`),
      credentialUsed: db.prepare(`SELECT 1 FROM pilots WHERE credential_id = ? LIMIT 1`),
      count: db.prepare(
        `INSERT INTO counters (entry, client, name, value) VALUES (?, ?, ?, ?)
         ON CONFLICT (entry, client, name) DO UPDATE SET value = value + excluded.value`,
      ),
      counters: db.prepare(`SELECT entry, client, name, value FROM counters`),
      lastError: db.prepare(
        `INSERT INTO last_errors (entry, client, at, message) VALUES (?, ?, ?, ?)
         ON CONFLICT (entry, client) DO UPDATE SET at = excluded.at, message = excluded.message`,
      ),
      lastErrors: db.prepare(`SELECT entry, client, at, message FROM last_errors`),
      recentFailure: db.prepare(
        `INSERT INTO recent_failures (entry, at, client, failure_class, message)
         VALUES (?, ?, ?, ?, ?)`,
      ),
      trimRecentFailures: db.prepare(
        `DELETE FROM recent_failures WHERE entry = ? AND id NOT IN
           (SELECT id FROM recent_failures WHERE entry = ? ORDER BY id DESC LIMIT ?)`,
      ),
      recentFailures: db.prepare(
        `SELECT entry, at, client, failure_class, message FROM recent_failures ORDER BY id`,
      ),
      addDowntime: db.prepare(
        `INSERT INTO downtimes (entry, frontend, start_at, end_at, comment, created_at)
         VALUES (?, ?, ?, ?, ?, ?)`,
      ),
      downtimes: db.prepare(`SELECT * FROM downtimes ORDER BY id`),
      removeDowntime: db.prepare(`DELETE FROM downtimes WHERE id = ?`),
      clientStatus: new BatchStatement(
        db,
        8,
        (values) => `INSERT INTO client_status (entry, client, frontend, req_idle, req_max,
            limits_hit, refused, at) VALUES ${values}
          ON CONFLICT (entry, client) DO UPDATE SET frontend = excluded.frontend,
            req_idle = excluded.req_idle, req_max = excluded.req_max,
            limits_hit = excluded.limits_hit, refused = excluded.refused, at = excluded.at`,
      ),
      clientStatuses: db.prepare(`SELECT * FROM client_status ORDER BY entry, client`),
    };
    this.reload();
  }

  /**
   * Run `fn` in one transaction. A call inside another runs as part of it (a savepoint per call
   * costs more than it buys here), and the outermost call says how its commit reaches the disk:
   *  - "durable" (the default; synchronous=FULL): on disk before the call returns. Every write an
   *    outside action relies on is durable: an intent before its submit, a removal reason before
   *    the remove, an outcome before the adapter forgets the pilot's output.
   *  - "relaxed" (synchronous=NORMAL): in the write-ahead log, which survives the factory's own
   *    crash or SIGKILL; only the machine's crash (power, kernel) before the next durable commit
   *    can lose it. For what the adapters tell again after a restart (states, handles of
   *    recorded intents, which reconcile finds by intent id) and for counters and status:
   *    several fsyncs a cycle on a busy disk took longer than the cycle's own work.
   * A durable call inside a relaxed one is refused: its guarantee would silently not hold.
   */
  transaction<T>(fn: () => T, durability?: "durable" | "relaxed"): T {
    if (this.db.inTransaction) {
      if (durability === "durable" && this.relaxedCommit)
        throw new Error("a durable write inside a relaxed transaction");
      return fn();
    }
    const relaxed = durability === "relaxed";
    // Set each time, not by a statement prepared once: SQLite applies this pragma as it
    // prepares the statement, and running a prepared one again may change nothing.
    if (relaxed) this.db.pragma("synchronous = NORMAL");
    this.relaxedCommit = relaxed;
    try {
      return this.db.transaction(fn)();
    } catch (err) {
      this.reload();
      throw err;
    } finally {
      this.relaxedCommit = false;
      if (relaxed) this.db.pragma("synchronous = FULL");
    }
  }

  private reload(): void {
    this.liveRows = new Map((this.st.live.all() as RawPilot[]).map((r) => [r.id, toRow(r)]));
    this.liveList = undefined;
    this.counts.clear();
    this.held.clear();
    for (const r of this.liveRows.values()) {
      this.counts.add(r.entry, r.client, r.state, r.credentialId);
      if (r.state === "Held") this.held.add(r);
    }
    this.counterRows = new Map();
    for (const c of this.st.counters.all() as CounterRow[])
      this.mirrorCount(c.entry, c.client, c.name, c.value);
    this.statusRows = new Map(
      (this.st.clientStatuses.all() as RawClientStatus[]).map((r) => [
        pairKey(r.entry, r.client),
        toStatus(r),
      ]),
    );
  }

  /** Which of `ids` some pilot, past or present, was given as its credential. */
  credentialsUsed(ids: readonly string[]): Set<string> {
    return new Set(ids.filter((id) => this.st.credentialUsed.get(id) !== undefined));
  }

  /** Record submit intents in one transaction; returns their ids, in order. */
  recordIntents(intents: readonly PilotIntent[], now: number): number[] {
    return this.transaction(() => {
      // Ids given here rather than by SQLite, so that one statement inserts many rows.
      const first = Number((this.st.maxId.get() as { id: number }).id) + 1;
      this.st.intents.run(
        intents.map((i, n) => [
          first + n,
          i.entry,
          i.client,
          i.frontend,
          i.securityClass,
          i.credentialId,
          i.gridtype,
          "Unsubmitted",
          now,
          now,
        ]),
      );
      this.liveList = undefined;
      return intents.map((i, n) => {
        const id = first + n;
        // Same literal shape as toRow: one hidden class for every row keeps cycle loops fast.
        this.liveRows.set(
          id,
          toRow({
            id,
            entry: i.entry,
            client: i.client,
            frontend: i.frontend,
            security_class: i.securityClass,
            credential_id: i.credentialId,
            gridtype: i.gridtype,
            handle: null,
            state: "Unsubmitted",
            waiting: 0,
            hold_reason: null,
            hold_recoverable: 0,
            releases: 0,
            next_release_at: null,
            remove_reason: null,
            created_at: now,
            submitted_at: null,
            state_changed_at: now,
            finished_at: null,
            exit_code: null,
            outcome: null,
          }),
        );
        this.counts.add(i.entry, i.client, "Unsubmitted", i.credentialId);
        return id;
      });
    }, "durable");
  }

  /** Attach adapter handles to intents, in one transaction. */
  recordSubmitted(done: readonly { id: number; handle: string }[], now: number): void {
    // One statement per row: an UPDATE ... FROM over many rows measured slower than this.
    this.transaction(() => {
      for (const d of done) {
        if (this.st.submitted.run(d.handle, now, now, d.id).changes === 0) continue;
        const row = this.liveRows.get(d.id);
        if (row) {
          this.counts.move(row.entry, row.client, row.state, "Idle");
          row.handle = d.handle;
          row.state = "Idle";
          row.submittedAt = now;
          row.stateChangedAt = now;
        }
      }
    });
  }

  applyStates(changes: readonly StateChange[], now: number): void {
    this.transaction(() => {
      // A statement updates each pilot once; a pilot changed again starts the next statement, so
      // the changes land in order.
      let rows: unknown[][] = [];
      const ids = new Set<number>();
      for (const c of changes) {
        if (ids.has(c.id)) {
          this.st.setStates.run(rows);
          rows = [];
          ids.clear();
        }
        ids.add(c.id);
        rows.push([
          c.id,
          c.state,
          c.waiting ? 1 : 0,
          c.holdReason ?? null,
          c.holdRecoverable ? 1 : 0,
          c.exitCode ?? null,
          TERMINAL.has(c.state) ? 1 : 0,
          now,
        ]);
      }
      this.st.setStates.run(rows);
      for (const c of changes) {
        const terminal = TERMINAL.has(c.state);
        const row = this.liveRows.get(c.id);
        if (!row) continue;
        if (row.state === "Held") this.held.remove(row);
        if (terminal) {
          this.liveRows.delete(c.id);
          this.liveList = undefined;
          this.counts.remove(row.entry, row.client, row.state, row.credentialId);
          continue;
        }
        this.counts.move(row.entry, row.client, row.state, c.state);
        if (row.state !== c.state) row.stateChangedAt = now;
        row.state = c.state;
        row.waiting = c.waiting ?? false;
        row.holdReason = c.holdReason ?? null;
        row.holdRecoverable = c.holdRecoverable ?? false;
        if (c.exitCode !== undefined && c.exitCode !== null) row.exitCode = c.exitCode;
        if (row.state === "Held") this.held.add(row);
      }
    });
  }

  markRemoveRequested(ids: readonly number[], reason: string): void {
    this.transaction(() => {
      for (const id of ids) {
        this.st.removeReason.run(reason, id);
        const row = this.liveRows.get(id);
        if (row) row.removeReason = reason;
      }
    });
  }

  recordRelease(id: number, nextReleaseAt: number, now: number): void {
    this.st.released.run(nextReleaseAt, now, id);
    const row = this.liveRows.get(id);
    if (row) {
      this.counts.move(row.entry, row.client, row.state, "Idle");
      if (row.state === "Held") this.held.remove(row);
      row.releases++;
      row.nextReleaseAt = nextReleaseAt;
      row.state = "Idle";
      row.holdReason = null;
      row.stateChangedAt = now;
    }
  }

  recordOutcome(id: number, outcome: unknown): void {
    this.st.outcome.run(JSON.stringify(outcome), id);
  }

  /** One live pilot by id. */
  liveById(id: number): Readonly<PilotRow> | undefined {
    return this.liveRows.get(id);
  }

  /**
   * Live pilots counted per entry and per (entry, client): Unsubmitted and Idle count as idle.
   * The counts change with later writes.
   */
  liveCounts(): ReadonlyMap<string, Readonly<EntryCounts>> {
    return this.counts.entries;
  }

  /** Unsubmitted intents of a client at an entry, which `liveCounts` counts as idle. */
  unsubmittedCount(entry: string, client: string): number {
    return this.counts.unsubmitted(entry, client);
  }

  /** Whether any intent is still unsubmitted, from the counts (not a walk over every pilot). */
  hasUnsubmitted(): boolean {
    return this.counts.anyUnsubmitted();
  }

  /** The credential ids of live pilots, from the counts (not a walk over every pilot). */
  liveCredentialIds(): Set<string> {
    return this.counts.credentialIds();
  }

  /** Live pilots of a client at an entry per credential id; changes with later writes. */
  liveByCredential(entry: string, client: string): ReadonlyMap<string, number> {
    return this.counts.byCredential(entry, client);
  }

  /** Held live pilots by entry, hold reason's shape and recoverability; change with writes. */
  heldCounts(): HeldCounts["all"] {
    return this.held.all;
  }

  /**
   * Live pilots (Unsubmitted, Idle, Running, Held). The rows change with later
   * writes; the list itself does not, but is shared with later callers until a pilot becomes
   * live or ends.
   */
  live(): readonly Readonly<PilotRow>[] {
    if (this.liveList === undefined) this.liveList = [...this.liveRows.values()];
    return this.liveList;
  }

  inState(state: PilotState): PilotRow[] {
    return (this.st.byState.all(state) as RawPilot[]).map(toRow);
  }

  unfetched(): PilotRow[] {
    return (this.st.unfetched.all() as RawPilot[]).map(toRow);
  }

  get(id: number): PilotRow | undefined {
    const r = this.st.get.get(id) as RawPilot | undefined;
    return r && toRow(r);
  }

  all(): PilotRow[] {
    return (this.st.all.all() as RawPilot[]).map(toRow);
  }

  count(entry: string, client: string, name: string, by = 1): void {
    this.st.count.run(entry, client, name, by);
    this.mirrorCount(entry, client, name, by);
  }

  private mirrorCount(entry: string, client: string, name: string, by: number): void {
    let named = this.counterRows.get(name);
    if (named === undefined) this.counterRows.set(name, (named = new Map()));
    const key = pairKey(entry, client);
    const row = named.get(key);
    if (row) row.value += by;
    else named.set(key, { entry, client, name, value: by });
  }

  /** Every counter, from memory; the values change with later counts. */
  counters(): readonly Readonly<CounterRow>[] {
    return [...this.counterRows.values()].flatMap((named) => [...named.values()]);
  }

  /** The names counted so far (`submitted`, `failed:Network`...). */
  counterNames(): Iterable<string> {
    return this.counterRows.keys();
  }

  /** One counter of every entry and client that has it; the values change with later counts. */
  countersNamed(name: string): Iterable<Readonly<CounterRow>> {
    return this.counterRows.get(name)?.values() ?? [];
  }

  recordError(entry: string, client: string, at: number, message: string): void {
    this.st.lastError.run(entry, client, at, message);
  }

  lastErrors(): { entry: string; client: string; at: number; message: string }[] {
    return this.st.lastErrors.all() as {
      entry: string;
      client: string;
      at: number;
      message: string;
    }[];
  }

  /** Add an entry's failed pilot to its recent list, keeping the newest `keep`. */
  recordRecentFailure(entry: string, f: RecentFailure, keep: number): void {
    this.st.recentFailure.run(entry, f.at, f.client, f.failureClass, f.error);
    this.st.trimRecentFailures.run(entry, entry, keep);
  }

  /** Every entry's recent failed pilots, oldest first. */
  recentFailures(): { entry: string; failure: RecentFailure }[] {
    return (
      this.st.recentFailures.all() as {
        entry: string;
        at: number;
        client: string;
        failure_class: string;
        message: string;
      }[]
    ).map((r) => ({
      entry: r.entry,
      failure: { at: r.at, client: r.client, failureClass: r.failure_class, error: r.message },
    }));
  }

  addDowntime(d: Downtime, now: number): number {
    return Number(
      this.st.addDowntime.run(
        d.entry,
        d.frontend ?? null,
        d.start,
        d.end ?? null,
        d.comment ?? "",
        now,
      ).lastInsertRowid,
    );
  }

  downtimes(): Downtime[] {
    return (
      this.st.downtimes.all() as {
        id: number;
        entry: string;
        frontend: string | null;
        start_at: number;
        end_at: number | null;
        comment: string;
      }[]
    ).map((r) => ({
      id: r.id,
      entry: r.entry,
      frontend: r.frontend ?? undefined,
      start: r.start_at,
      end: r.end_at ?? undefined,
      comment: r.comment,
    }));
  }

  removeDowntime(id: number): boolean {
    return this.st.removeDowntime.run(id).changes > 0;
  }

  /**
   * Each (entry, client)'s status of this cycle. Only rows that differ from the kept ones are
   * written, so `at` is when the status last changed: a steady factory decides the same for
   * thousands of pairs each cycle, and rewriting them all was a large part of its cycle.
   */
  recordClientStatus(rows: readonly ClientStatusRow[]): void {
    const changed: ClientStatusRow[] = [];
    for (const r of rows) {
      const key = pairKey(r.entry, r.client);
      const old = this.statusRows.get(key);
      if (old !== undefined && sameStatus(old, r)) continue;
      changed.push(r);
      this.statusRows.set(key, { ...r });
    }
    if (changed.length === 0) return;
    this.transaction(() => {
      this.st.clientStatus.run(
        changed.map((r) => [
          r.entry,
          r.client,
          r.frontend,
          r.reqIdle,
          r.reqMax,
          r.limitsHit,
          r.refused ?? null,
          r.at,
        ]),
      );
      // Decided again next cycle.
    }, "relaxed");
  }

  /** Each client's status at each entry, from memory, in no particular order. */
  clientStatusesUnordered(): Iterable<Readonly<ClientStatusRow>> {
    return this.statusRows.values();
  }

  /** Each client's status at each entry, ordered by entry and client. */
  clientStatuses(): ClientStatusRow[] {
    return [...this.statusRows.values()]
      .map((r) => ({ ...r }))
      .sort((a, b) => cmp(a.entry, b.entry) || cmp(a.client, b.client));
  }

  close(): void {
    this.db.close();
  }
}
