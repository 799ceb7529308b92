/**
 * Bounds on Prometheus label values that come from others (client and entry names in ads, hold
 * reasons from CEs): printable and at most 128 characters, and at most so many series per metric,
 * beyond which the rest are summed into one series whose labels all read `_other`. A hostile
 * writer of ads cannot grow a scrape without bound, and no count is lost from a sum.
 */
import { Counter, Gauge, type Registry } from "prom-client";

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

/**
 * What a computed metric's `read` is given: add one series' value (summed if seen before), its
 * label values (one to three: a fixed arity keeps the call cheap) in the order of `labelNames`. Every label value is printable: passed through
 * labelValue (or memoLabelValue), or a name from the code.
 */
export type AddSeries = (value: number, a: string, b?: string, c?: string) => void;

interface ComputedConfig {
  name: string;
  help: string;
  labelNames: readonly string[];
  registers: Registry[];
  /** Called once per page, adds every series from counts the daemon keeps up to date. */
  read: (add: AddSeries) => void;
  /** At most so many series (MAX_SERIES_PER_METRIC unless said). */
  max?: number;
}

/**
 * A gauge whose series are read from the daemon's own counts at scrape time and handed to the
 * registry as plain values, bounded like BoundedSeries: no reset and set per series (each of
 * which hashes its labels), so a page of thousands of series costs little more than its text.
 */
export class ComputedGauge extends Gauge<string> {
  private readonly read: ComputedConfig["read"];
  private readonly max: number;
  private readonly labelNames: readonly string[];
  constructor(c: ComputedConfig) {
    super({ name: c.name, help: c.help, labelNames: checkArity(c), registers: c.registers });
    this.labelNames = c.labelNames;
    this.read = c.read;
    this.max = c.max ?? MAX_SERIES_PER_METRIC;
  }
  override async get(): ReturnType<Gauge<string>["get"]> {
    return { ...(await super.get()), values: computedValues(this.labelNames, this.read, this.max) };
  }
}

/** A counter read like ComputedGauge: the daemon keeps the running totals, the page shows them. */
export class ComputedCounter extends Counter<string> {
  private readonly read: ComputedConfig["read"];
  private readonly max: number;
  private readonly labelNames: readonly string[];
  constructor(c: ComputedConfig) {
    super({ name: c.name, help: c.help, labelNames: checkArity(c), registers: c.registers });
    this.labelNames = c.labelNames;
    this.read = c.read;
    this.max = c.max ?? MAX_SERIES_PER_METRIC;
  }
  override async get(): ReturnType<Counter<string>["get"]> {
    return { ...(await super.get()), values: computedValues(this.labelNames, this.read, this.max) };
  }
}

function checkArity(c: ComputedConfig): readonly string[] {
  if (c.labelNames.length < 1 || c.labelNames.length > 3)
    throw new Error(`${c.name}: a computed metric has one to three labels`);
  return c.labelNames;
}

/**
 * Like BoundedSeries, with a cheaper key: the label values joined by NUL, which a label value
 * cannot hold (each has passed through labelValue or is a name from the code), so distinct sets
 * keep distinct keys.
 */
function computedValues(
  labelNames: readonly string[],
  read: ComputedConfig["read"],
  max: number,
): { labels: Record<string, string>; value: number }[] {
  const series = new Map<string, { labels: Record<string, string>; value: number }>();
  let other: { labels: Record<string, string>; value: number } | undefined;
  // Label objects are made only for the series kept: past the bound, most adds are summed away.
  read((value, a, b, c) => {
    const key =
      b === undefined ? a : c === undefined ? a + "\u0000" + b : a + "\u0000" + b + "\u0000" + c;
    const v = series.get(key);
    if (v) v.value += value;
    else if (series.size < max - 1) {
      const labels: Record<string, string> = {};
      const given = [a, b, c];
      labelNames.forEach((name, i) => (labels[name] = given[i] ?? ""));
      series.set(key, { labels, value });
    } else if (other) other.value += value;
    else other = { labels: Object.fromEntries(labelNames.map((k) => [k, OTHER])), value };
  });
  const values = [...series.values()];
  if (other) values.push(other);
  return values;
}

/**
 * labelValue remembered for names seen again on every page (client names): at most `max` kept,
 * forgotten all at once past that, so hostile names cost memory only up to the bound.
 */
export function memoLabelValue(max = 50_000): (s: string) => string {
  let seen = new Map<string, string>();
  return (s) => {
    let v = seen.get(s);
    if (v === undefined) {
      if (seen.size >= max) seen = new Map();
      seen.set(s, (v = labelValue(s)));
    }
    return v;
  };
}
