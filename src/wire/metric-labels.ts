/**
 * Bounds on Prometheus label values that come from others (client and entry names in ads, hold
 * reasons from CEs): printable and at most 128 characters, and at most so many series per metric,
 * beyond which the rest are summed into one series whose labels all read `_other`. A hostile
 * writer of ads cannot grow a scrape without bound, and no count is lost from a sum.
 */
export const MAX_SERIES_PER_METRIC = 2000;
const MAX_LABEL_CHARS = 128;
export const OTHER = "_other";

/** A label value from outside: printable ASCII, at most 128 characters. */
export function labelValue(s: string): string {
  const clean = s.replace(/[^\x20-\x7e]/g, "?");
  return clean.length > MAX_LABEL_CHARS ? clean.slice(0, MAX_LABEL_CHARS) : clean;
}

/** Sums values into label sets, at most `max`; the rest go to a set whose labels all say OTHER. */
export class BoundedSeries {
  readonly values = new Map<string, { labels: Record<string, string>; value: number }>();
  constructor(private readonly max = MAX_SERIES_PER_METRIC) {}

  add(labels: Record<string, string>, by = 1): void {
    let key = JSON.stringify(labels);
    if (!this.values.has(key) && this.values.size >= this.max - 1) {
      labels = Object.fromEntries(Object.keys(labels).map((k) => [k, OTHER]));
      key = JSON.stringify(labels);
    }
    const v = this.values.get(key);
    if (v) v.value += by;
    else this.values.set(key, { labels, value: by });
  }

  /** Each label set and its sum, for a gauge's or counter's collect(). */
  each(fn: (labels: Record<string, string>, value: number) => void): void {
    for (const { labels, value } of this.values.values()) fn(labels, value);
  }
}
