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
  private readonly series: ComputedSeries;
  constructor(c: ComputedConfig) {
    super({ name: c.name, help: c.help, labelNames: checkArity(c), registers: c.registers });
    this.series = new ComputedSeries(c);
  }
  override async get(): ReturnType<Gauge<string>["get"]> {
    return { ...(await super.get()), values: this.series.values() };
  }
}

/** A counter read like ComputedGauge: the daemon keeps the running totals, the page shows them. */
export class ComputedCounter extends Counter<string> {
  private readonly series: ComputedSeries;
  constructor(c: ComputedConfig) {
    super({ name: c.name, help: c.help, labelNames: checkArity(c), registers: c.registers });
    this.series = new ComputedSeries(c);
  }
  override async get(): ReturnType<Counter<string>["get"]> {
    return { ...(await super.get()), values: this.series.values() };
  }
}

function checkArity(c: ComputedConfig): readonly string[] {
  if (c.labelNames.length < 1 || c.labelNames.length > 3)
    throw new Error(`${c.name}: a computed metric has one to three labels`);
  return c.labelNames;
}

/** prom-client's escaping of a label value in the text format. */
const escapeLabel = (v: string): string =>
  v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');

const NO_LABELS: Record<string, string> = Object.freeze({}) as Record<string, string>;

type Value = {
  metricName: string;
  labels: Record<string, string>;
  sharedLabels: Record<string, string>;
  value: number;
};

/** One series kept from page to page: its written name and this page's sum. */
type Series = { metricName: string; value: number; page: number };

/** Series kept across pages, beyond which they are forgotten (and rewritten when seen again). */
const KEPT_FACTOR = 4;

/**
 * One computed metric's series, bounded like BoundedSeries. They are kept from page to page in
 * maps by label value (one to three levels deep, a missing label being ""), so a page finds
 * each series with a lookup per label, on names the daemon already holds, instead of building
 * and hashing a joined key for each of the thousands of values it adds (most of the page's work
 * at 10,000 entry and client pairs). Each series is handed to the registry as its whole name
 * and labels already written (`name{a="x",b="y"}`) with no labels left to format, so the
 * registry writes the line as that text and the value, and a series is formatted once in its
 * life rather than on every page. Prometheus's text format only (the registry's default):
 * OpenMetrics would append `_total` after the braces.
 */
class ComputedSeries {
  private readonly name: string;
  private readonly labelNames: readonly string[];
  private readonly read: ComputedConfig["read"];
  private readonly max: number;
  private kept = new Map<string, Map<string, Map<string, Series>>>();
  private keptCount = 0;
  private readonly other: Series;
  private page = 0;

  constructor(c: ComputedConfig) {
    this.name = c.name;
    this.labelNames = c.labelNames;
    this.read = c.read;
    this.max = c.max ?? MAX_SERIES_PER_METRIC;
    this.other = { metricName: this.write(c.labelNames.map(() => OTHER)), value: 0, page: 0 };
  }

  private write(values: readonly string[]): string {
    const parts = this.labelNames.map((n, i) => `${n}="${escapeLabel(values[i] ?? "")}"`);
    return `${this.name}{${parts.join(",")}}`;
  }

  /** Where a new series goes: kept, its name written once, unless the page is full. */
  private keep(a: string, b: string, c: string): Series {
    let byB = this.kept.get(a);
    if (byB === undefined) this.kept.set(a, (byB = new Map()));
    let byC = byB.get(b);
    if (byC === undefined) byB.set(b, (byC = new Map()));
    const s: Series = { metricName: this.write([a, b, c]), value: 0, page: 0 };
    byC.set(c, s);
    this.keptCount++;
    return s;
  }

  values(): Value[] {
    // Names that came and went (a hostile writer's) are forgotten past a bound.
    if (this.keptCount > KEPT_FACTOR * this.max) {
      this.kept = new Map();
      this.keptCount = 0;
    }
    const page = ++this.page;
    const shown: Series[] = [];
    const other = this.other;
    const room = this.max - 1;
    this.read((value, a, b = "", c = "") => {
      let s = this.kept.get(a)?.get(b)?.get(c);
      if (s === undefined || s.page !== page) {
        if (shown.length >= room) {
          // Past the bound: summed into the one `_other` series.
          if (other.page !== page) {
            other.page = page;
            other.value = 0;
          }
          other.value += value;
          return;
        }
        s ??= this.keep(a, b, c);
        s.page = page;
        s.value = 0;
        shown.push(s);
      }
      s.value += value;
    });
    const values: Value[] = shown.map((s) => ({
      metricName: s.metricName,
      labels: NO_LABELS,
      sharedLabels: NO_LABELS,
      value: s.value,
    }));
    if (other.page === page)
      values.push({
        metricName: other.metricName,
        labels: NO_LABELS,
        sharedLabels: NO_LABELS,
        value: other.value,
      });
    return values;
  }
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
