/**
 * The plots of the pool page, aggregated from the history on the server so the browser gets a
 * few lines per plot rather than every series: pilots by state, running pilots per entry, jobs by
 * state, running jobs per entry (the pilots' dynamic slots), requested idle pilots per entry,
 * pilot failures by class, goodput (the CPU seconds jobs used over the core-seconds their pilots
 * held, per bucket) and occupancy (pilot cores claimed by jobs over pilot cores). Per-entry plots show the largest entries and sum the rest as
 * `other`. Pure.
 */
import type { RangeHistory, SeriesHistory } from "./history-store.js";
import { SERIES } from "./pool-samples.js";

/** Lines a per-entry plot shows before summing the rest. */
export const TOP_LINES = 8;

export type PanelLine = { label: string; values: (number | null)[] };

export type Panel = {
  id: string;
  title: string;
  unit: string;
  lines: PanelLine[];
};

export type HistoryPanels = {
  range: RangeHistory["range"];
  step_s: number;
  xs: number[];
  panels: Panel[];
};

/** Sum the values of series grouped by one label; null only where every member is null. */
function sumBy(series: readonly SeriesHistory[], label: string, width: number): PanelLine[] {
  const groups = new Map<string, (number | null)[]>();
  for (const s of series) {
    const key = s.labels[label] ?? "";
    let acc = groups.get(key);
    if (!acc) groups.set(key, (acc = new Array<number | null>(width).fill(null)));
    s.values.forEach((v, i) => {
      if (v !== null) acc[i] = (acc[i] ?? 0) + v;
    });
  }
  return [...groups.entries()]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([label, values]) => ({ label, values }));
}

const total = (l: PanelLine) => l.values.reduce<number>((n, v) => n + (v ?? 0), 0);

/** The `TOP_LINES` largest lines, the rest summed into `other`. */
function topLines(lines: PanelLine[], width: number): PanelLine[] {
  if (lines.length <= TOP_LINES) return lines;
  const ranked = [...lines].sort((a, b) => total(b) - total(a));
  const rest = ranked.slice(TOP_LINES - 1);
  const other = new Array<number | null>(width).fill(null);
  for (const l of rest)
    l.values.forEach((v, i) => {
      if (v !== null) other[i] = (other[i] ?? 0) + v;
    });
  return [...ranked.slice(0, TOP_LINES - 1), { label: "other", values: other }];
}

export function historyPanels(h: RangeHistory): HistoryPanels {
  const width = h.xs.length;
  const named = (name: string, where: (s: SeriesHistory) => boolean = () => true) =>
    h.series.filter((s) => s.name === name && where(s));
  const ratio = (num: PanelLine[], den: PanelLine[]): PanelLine[] => {
    const d = new Map(den.map((l) => [l.label, l.values]));
    return num.map((l) => ({
      label: l.label,
      values: l.values.map((v, i) => {
        const c = d.get(l.label)?.[i];
        return v === null || c === null || c === undefined || c <= 0 ? null : v / c;
      }),
    }));
  };
  const jobCpu = sumBy(named(SERIES.jobCpu), "entry", width);
  const coreTime = sumBy(named(SERIES.pilotCoreTime), "entry", width);
  const busy = sumBy(named(SERIES.busyCores), "entry", width);
  const cores = sumBy(named(SERIES.pilotCores), "entry", width);
  const poolBusy = sumBy(named(SERIES.busyCores), "_", width);
  const poolCores = sumBy(named(SERIES.pilotCores), "_", width);
  return {
    range: h.range,
    step_s: h.step_s,
    xs: h.xs,
    panels: [
      {
        id: "pilots",
        title: "Pilots by state",
        unit: "pilots",
        lines: sumBy(named(SERIES.pilots), "state", width),
      },
      {
        id: "pilots-running",
        title: "Running pilots per entry",
        unit: "pilots",
        lines: topLines(
          sumBy(
            named(SERIES.pilots, (s) => s.labels.state === "running"),
            "entry",
            width,
          ),
          width,
        ),
      },
      {
        id: "jobs",
        title: "Jobs by state",
        unit: "jobs",
        lines: sumBy(named(SERIES.jobs), "state", width),
      },
      {
        id: "jobs-running",
        title: "Running jobs per entry",
        unit: "jobs",
        lines: topLines(sumBy(named(SERIES.entryJobs), "entry", width), width),
      },
      {
        id: "requested",
        title: "Idle pilots requested per entry",
        unit: "pilots",
        lines: topLines(sumBy(named(SERIES.requestedIdle), "entry", width), width),
      },
      {
        id: "failures",
        title: `Pilot failures by class (per ${h.step_s >= 86_400 ? "day" : h.step_s >= 3600 ? "hour" : "minute"})`,
        unit: "failures",
        lines: sumBy(named(SERIES.pilotFailures), "class", width),
      },
      {
        id: "goodput",
        title: "Goodput: job CPU hours per pilot core hour",
        unit: "ratio",
        lines: [
          ...ratio(
            sumBy(named(SERIES.jobCpu), "_", width),
            sumBy(named(SERIES.pilotCoreTime), "_", width),
          ).map((l) => ({ ...l, label: "pool" })),
          // A ratio does not sum: the entries with most pilot time, no `other`.
          ...ratio(
            jobCpu,
            [...coreTime].sort((a, b) => total(b) - total(a)).slice(0, TOP_LINES),
          ).filter((l) => l.values.some((v) => v !== null)),
        ],
      },
      {
        id: "occupancy",
        title: "Occupancy: pilot cores claimed by jobs per pilot core",
        unit: "ratio",
        lines: [
          ...ratio(poolBusy, poolCores).map((l) => ({ ...l, label: "pool" })),
          // A ratio does not sum: the entries with most cores, no `other`.
          ...ratio(busy, [...cores].sort((a, b) => total(b) - total(a)).slice(0, TOP_LINES)).filter(
            (l) => l.values.some((v) => v !== null),
          ),
        ],
      },
    ],
  };
}
