/**
 * The shape of the pool's history, as glideinWMS keeps it in RRD files: every sample lands in
 * three archives of fixed-size time buckets, fine for a day, coarse for a year. Pure: buckets,
 * which archive answers a range, how a bucket's samples consolidate, and the bound on series.
 */

export type ArchiveName = "minute" | "hour" | "day";

export type Archive = {
  readonly name: ArchiveName;
  /** Bucket width. */
  readonly step_s: number;
  /** How far back buckets are kept. */
  readonly keep_s: number;
};

const DAY_S = 86_400;

/** 1 minute for a day, 1 hour for a month, 1 day for a year (glideinWMS's RRAs, roughly). */
export const ARCHIVES: readonly Archive[] = [
  { name: "minute", step_s: 60, keep_s: DAY_S },
  { name: "hour", step_s: 3_600, keep_s: 31 * DAY_S },
  { name: "day", step_s: DAY_S, keep_s: 366 * DAY_S },
];

export type RangeName = "hour" | "day" | "month" | "year";

/** The plot ranges the page offers, each read from the finest archive that still covers it. */
export const RANGES: Readonly<Record<RangeName, { span_s: number; archive: ArchiveName }>> = {
  hour: { span_s: 3_600, archive: "minute" },
  day: { span_s: DAY_S, archive: "minute" },
  month: { span_s: 31 * DAY_S, archive: "hour" },
  year: { span_s: 366 * DAY_S, archive: "day" },
};

export function isRangeName(s: string): s is RangeName {
  return Object.hasOwn(RANGES, s);
}

export function archiveNamed(name: ArchiveName): Archive {
  const a = ARCHIVES.find((x) => x.name === name);
  if (!a) throw new Error(`no archive ${name}`);
  return a;
}

/** Start (seconds since the epoch) of the bucket holding `tMs`. */
export function bucketStart(tMs: number, step_s: number): number {
  const t = Math.floor(tMs / 1000);
  return t - (t % step_s);
}

/**
 * `gauge`: a level (pilots running); a bucket shows the mean of its samples, as RRD's AVERAGE.
 * `events`: a count of things that happened since the previous sample (pilot failures); a
 * bucket shows their sum, so an hour's bucket holds the hour's failures.
 */
export type SeriesKind = "gauge" | "events";

export function consolidate(kind: SeriesKind, sum: number, count: number): number {
  return kind === "events" ? sum : sum / count;
}

export type Labels = Readonly<Record<string, string>>;

export type Sample = {
  readonly name: string;
  readonly labels: Labels;
  readonly kind: SeriesKind;
  readonly value: number;
};

/** One text per (name, labels), label order irrelevant. */
export function seriesKey(name: string, labels: Labels): string {
  const sorted = Object.keys(labels)
    .sort()
    .map((k) => [k, labels[k]]);
  return `${name}${JSON.stringify(sorted)}`;
}

/** Where series past the bound go: same name, every label `_other` (as the metrics do). */
export function otherLabels(labels: Labels): Labels {
  return Object.fromEntries(Object.keys(labels).map((k) => [k, "_other"]));
}

/** Bucket starts of a range ending at `nowMs`, oldest first: the x axis every series shares. */
export function rangeBuckets(range: RangeName, nowMs: number): { step_s: number; xs: number[] } {
  const { span_s, archive } = RANGES[range];
  const step_s = archiveNamed(archive).step_s;
  const last = bucketStart(nowMs, step_s);
  const first = last - Math.floor(span_s / step_s - 1) * step_s;
  const xs: number[] = [];
  for (let t = first; t <= last; t += step_s) xs.push(t);
  return { step_s, xs };
}
