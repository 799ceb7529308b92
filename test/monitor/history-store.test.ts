/**
 * The pool's history in a real SQLite file: buckets per archive, consolidation (mean for levels,
 * sum for events), pruning, the bound on series and on size, and the file's modes.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { ARCHIVES, rangeBuckets } from "../../src/monitor/history-archives.js";
import { openHistory } from "../../src/monitor/history-store.js";

const dir = mkdtempSync(join(tmpdir(), "updraft-history-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const T0 = Date.UTC(2026, 5, 1, 12, 0, 0);
const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

test("the file is 0600 in a 0700 folder and keeps its series across a reopen", () => {
  const path = join(dir, "new", "sub", "history.sqlite");
  const h = openHistory(path, { maxSeries: 10 });
  h.record(T0, [
    { name: "pilots", labels: { entry: "A", state: "idle" }, kind: "gauge", value: 3 },
  ]);
  h.close();
  assert.equal(statSync(path).mode & 0o777, 0o600);
  assert.equal(statSync(join(dir, "new", "sub")).mode & 0o777, 0o700);
  assert.equal(statSync(`${path}-wal`, { throwIfNoEntry: false })?.mode ?? 0o600, 0o600);
  const again = openHistory(path, { maxSeries: 10 });
  const day = again.read("day", T0 + MIN);
  assert.equal(day.series.length, 1);
  assert.deepEqual(day.series[0]?.labels, { entry: "A", state: "idle" });
  assert.equal(day.series[0]?.values.at(-2), 3);
  again.close();
});

test("a level is the mean of its samples per bucket; events are summed", () => {
  const h = openHistory(":memory:", { maxSeries: 100 });
  // Three samples in one minute, then one in each of the next 59 minutes.
  for (const [dt, v] of [
    [0, 2],
    [20_000, 4],
    [40_000, 6],
  ] as const)
    h.record(T0 + dt, [
      { name: "pilots", labels: { entry: "A" }, kind: "gauge", value: v },
      { name: "failures", labels: { entry: "A" }, kind: "events", value: 1 },
    ]);
  for (let m = 1; m < 60; m++)
    h.record(T0 + m * MIN, [
      { name: "pilots", labels: { entry: "A" }, kind: "gauge", value: 10 },
      { name: "failures", labels: { entry: "A" }, kind: "events", value: 2 },
    ]);
  const now = T0 + 59 * MIN;
  const hour = h.read("hour", now);
  assert.equal(hour.step_s, 60);
  assert.equal(hour.xs.length, 60);
  assert.equal(hour.xs[0], T0 / 1000);
  const pilots = hour.series.find((s) => s.name === "pilots");
  const failures = hour.series.find((s) => s.name === "failures");
  assert.equal(pilots?.values[0], 4); // (2 + 4 + 6) / 3
  assert.equal(pilots?.values[1], 10);
  assert.equal(failures?.values[0], 3);
  // The month's hour bucket holds the hour: mean of 62 samples, sum of 121 failures.
  const month = h.read("month", now);
  assert.equal(month.step_s, 3600);
  const mp = month.series.find((s) => s.name === "pilots")?.values.at(-1);
  assert.ok(mp !== null && mp !== undefined && Math.abs(mp - (12 + 59 * 10) / 62) < 1e-9);
  assert.equal(month.series.find((s) => s.name === "failures")?.values.at(-1), 3 + 59 * 2);
  assert.equal(h.read("year", now).step_s, 86_400);
  // Only the names asked for.
  assert.deepEqual(
    h.read("day", now, ["failures"]).series.map((s) => s.name),
    ["failures"],
  );
  h.close();
});

test("a range has a bucket for every step, null where nothing was sampled", () => {
  const h = openHistory(":memory:", { maxSeries: 10 });
  h.record(T0, [{ name: "x", labels: {}, kind: "gauge", value: 1 }]);
  const r = h.read("day", T0 + 10 * MIN);
  assert.equal(r.xs.length, 1440);
  assert.equal(r.series[0]?.values.filter((v) => v !== null).length, 1);
  assert.equal(r.series[0]?.values.at(-11), 1);
  assert.deepEqual(rangeBuckets("year", T0).xs.length, 366);
  h.close();
});

test("series past max_series fold into their name's _other series, so sums stay whole", () => {
  const h = openHistory(":memory:", { maxSeries: 3 });
  const samples = Array.from({ length: 10 }, (_, i) => ({
    name: "pilots",
    labels: { entry: `E${i}` },
    kind: "gauge" as const,
    value: 1,
  }));
  h.record(T0, samples);
  const r = h.read("hour", T0);
  assert.equal(r.series.length, 4);
  const other = r.series.find((s) => s.labels.entry === "_other");
  // Seven samples of 1 in one bucket: a level's mean is 1, but the series exists once.
  assert.ok(other);
  assert.equal(h.counts().series, 4);
  h.close();
});

test("pruning keeps each archive to its span, so a year of sampling stays bounded", () => {
  const path = join(dir, "bounded.sqlite");
  const h = openHistory(path, { maxSeries: 10 });
  // Two years of hourly samples of two series, pruned each simulated day.
  const start = T0;
  for (let t = start; t < start + 730 * DAY; t += HOUR) {
    h.record(t, [
      { name: "a", labels: {}, kind: "gauge", value: 1 },
      { name: "b", labels: {}, kind: "events", value: 1 },
    ]);
    if ((t - start) % DAY === 0) h.prune(t);
  }
  const end = start + 730 * DAY;
  h.prune(end);
  const perSeries = ARCHIVES.reduce((n, a) => n + a.keep_s / a.step_s, 0);
  const { buckets, series } = h.counts();
  assert.equal(series, 2);
  assert.ok(buckets <= 2 * (perSeries + 3), `${buckets} buckets`);
  const year = h.read("year", end - HOUR);
  assert.equal(year.series.find((s) => s.name === "b")?.values.at(-2), 24);
  // A series no longer sampled disappears once its last bucket has aged out.
  h.prune(end + 400 * DAY);
  assert.deepEqual(h.counts(), { series: 0, buckets: 0 });
  h.close();
});
