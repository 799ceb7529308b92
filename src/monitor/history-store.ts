/**
 * The pool's history in SQLite: each sample is added to its bucket in every archive (sum and
 * count, so a bucket consolidates without keeping samples), old buckets are pruned, and the
 * number of series is capped, so the file's size is bounded by
 * max_series × (1,440 + 744 + 366) buckets whatever the pool does. File 0600, folder 0700.
 */
import { chmodSync, closeSync, mkdirSync, openSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import { migrate, type Migration } from "../common/migrations.js";
import {
  ARCHIVES,
  type ArchiveName,
  type Labels,
  type RangeName,
  RANGES,
  type Sample,
  type SeriesKind,
  bucketStart,
  consolidate,
  otherLabels,
  rangeBuckets,
  seriesKey,
} from "./history-archives.js";

const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: "series and their buckets per archive",
    up(db) {
      db.exec(`
        CREATE TABLE series (
          id INTEGER PRIMARY KEY,
          key TEXT NOT NULL UNIQUE,
          name TEXT NOT NULL,
          labels TEXT NOT NULL,
          kind TEXT NOT NULL
        );
        CREATE TABLE buckets (
          archive TEXT NOT NULL,
          series INTEGER NOT NULL,
          t INTEGER NOT NULL,
          sum REAL NOT NULL,
          count INTEGER NOT NULL,
          PRIMARY KEY (archive, series, t)
        ) WITHOUT ROWID;
        CREATE INDEX buckets_by_age ON buckets (archive, t);
      `);
    },
  },
];

export type HistoryOptions = {
  /** New series past this many fold into their name's `_other` series. */
  maxSeries: number;
};

export type SeriesHistory = {
  name: string;
  labels: Labels;
  kind: SeriesKind;
  /** One value per x, null where no sample fell in the bucket. */
  values: (number | null)[];
};

export type RangeHistory = {
  range: RangeName;
  step_s: number;
  /** Bucket starts, seconds since the epoch, oldest first. */
  xs: number[];
  series: SeriesHistory[];
};

export type HistoryStore = {
  /** Add one sampling pass (all samples taken at `tMs`) in one transaction. */
  record(tMs: number, samples: readonly Sample[]): void;
  /** Every series (or those named) over a range ending at `nowMs`, on a shared x axis. */
  read(range: RangeName, nowMs: number, names?: readonly string[]): RangeHistory;
  /** Drop buckets older than their archive keeps, and series left with none. */
  prune(nowMs: number): void;
  counts(): { series: number; buckets: number };
  close(): void;
};

/** Create the file 0600 in a 0700 folder before SQLite opens it (its WAL files copy the mode). */
function createPrivateFile(path: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  closeSync(openSync(path, "a", 0o600));
  chmodSync(path, 0o600);
}

export function openHistory(path: string, opts: HistoryOptions): HistoryStore {
  if (path !== ":memory:") createPrivateFile(path);
  const db = new Database(path);
  db.pragma("journal_mode = WAL");
  // Losing the last minute of history in a power cut is fine; an fsync per sample is not.
  db.pragma("synchronous = NORMAL");
  migrate(db, MIGRATIONS);

  type SeriesRow = { id: number; key: string; name: string; labels: string; kind: SeriesKind };
  const ids = new Map<string, number>();
  for (const r of db.prepare("SELECT id, key FROM series").all() as SeriesRow[]) {
    ids.set(r.key, r.id);
  }
  const insertSeries = db.prepare(
    "INSERT INTO series (key, name, labels, kind) VALUES (?, ?, ?, ?) RETURNING id",
  );
  const addToBucket = db.prepare(`
    INSERT INTO buckets (archive, series, t, sum, count) VALUES (?, ?, ?, ?, 1)
    ON CONFLICT (archive, series, t) DO UPDATE SET sum = sum + excluded.sum, count = count + 1`);
  const pruneArchive = db.prepare("DELETE FROM buckets WHERE archive = ? AND t < ?");
  const pruneSeries = db.prepare(
    "DELETE FROM series WHERE NOT EXISTS (SELECT 1 FROM buckets WHERE series = series.id)",
  );
  const readRange = db.prepare(`
    SELECT s.name, s.labels, s.kind, b.series, b.t, b.sum, b.count
    FROM buckets b JOIN series s ON s.id = b.series
    WHERE b.archive = ? AND b.t >= ?`);

  function seriesId(s: Sample): number {
    const key = seriesKey(s.name, s.labels);
    const known = ids.get(key);
    if (known !== undefined) return known;
    if (ids.size >= opts.maxSeries) {
      const other = otherLabels(s.labels);
      const otherKey = seriesKey(s.name, other);
      const id = ids.get(otherKey);
      if (id !== undefined) return id;
      // The `_other` series itself may exceed the bound by one per name: it is what keeps
      // the sums whole.
      return newSeries(otherKey, s.name, other, s.kind);
    }
    return newSeries(key, s.name, s.labels, s.kind);
  }

  function newSeries(key: string, name: string, labels: Labels, kind: SeriesKind): number {
    const { id } = insertSeries.get(key, name, JSON.stringify(labels), kind) as { id: number };
    ids.set(key, id);
    return id;
  }

  const recordAll = db.transaction((tMs: number, samples: readonly Sample[]) => {
    for (const s of samples) {
      if (!Number.isFinite(s.value)) continue;
      const id = seriesId(s);
      for (const a of ARCHIVES) addToBucket.run(a.name, id, bucketStart(tMs, a.step_s), s.value);
    }
  });

  const pruneAll = db.transaction((nowMs: number) => {
    for (const a of ARCHIVES) pruneArchive.run(a.name, bucketStart(nowMs, a.step_s) - a.keep_s);
    pruneSeries.run();
    ids.clear();
    for (const r of db.prepare("SELECT id, key FROM series").all() as SeriesRow[]) {
      ids.set(r.key, r.id);
    }
  });

  return {
    record: (tMs, samples) => recordAll(tMs, samples),
    prune: (nowMs) => pruneAll(nowMs),
    read(range, nowMs, names) {
      const archive: ArchiveName = RANGES[range].archive;
      const { step_s, xs } = rangeBuckets(range, nowMs);
      const index = new Map(xs.map((t, i) => [t, i]));
      const wanted = names ? new Set(names) : undefined;
      const bySeries = new Map<number, SeriesHistory>();
      type Row = {
        name: string;
        labels: string;
        kind: SeriesKind;
        series: number;
        t: number;
        sum: number;
        count: number;
      };
      for (const r of readRange.iterate(archive, xs[0] ?? 0) as Iterable<Row>) {
        if (wanted && !wanted.has(r.name)) continue;
        const i = index.get(r.t);
        if (i === undefined) continue;
        let s = bySeries.get(r.series);
        if (!s) {
          s = {
            name: r.name,
            labels: JSON.parse(r.labels) as Labels,
            kind: r.kind,
            values: xs.map(() => null),
          };
          bySeries.set(r.series, s);
        }
        s.values[i] = consolidate(r.kind, r.sum, r.count);
      }
      const series = [...bySeries.values()].sort((a, b) =>
        seriesKey(a.name, a.labels) < seriesKey(b.name, b.labels) ? -1 : 1,
      );
      return { range, step_s, xs, series };
    },
    counts() {
      const series = (db.prepare("SELECT count(*) AS n FROM series").get() as { n: number }).n;
      const buckets = (db.prepare("SELECT count(*) AS n FROM buckets").get() as { n: number }).n;
      return { series, buckets };
    },
    close: () => db.close(),
  };
}
