/**
 * Output of `updraft status`, as condor_status prints it: the slot table, autoformat (-af), the
 * old long form (-long), JSON (-json) and totals (-total). Pure: ads in, text out.
 */
import {
  ClassAd,
  UNDEFINED,
  adsJson,
  type Value,
  unparseValue,
  type CompiledExpr,
} from "../classad/index.js";
import { COMMON, SLOT } from "../ads/index.js";

export type WireAd = Record<string, string>;

function toAd(attrs: WireAd): ClassAd {
  return ClassAd.fromJSON(attrs);
}

/** A value as -af prints it: strings bare, everything else as ClassAd text. */
function autoformatValue(v: Value): string {
  return typeof v === "string" ? v : unparseValue(v);
}

/** -af: each expression evaluated in each ad, space-separated, one ad per line. */
export function formatAutoformat(ads: readonly WireAd[], exprs: readonly CompiledExpr[]): string {
  let out = "";
  for (const attrs of ads) {
    const ad = toAd(attrs);
    out += `${exprs.map((e) => autoformatValue(ad.evaluateExpr(e))).join(" ")}\n`;
  }
  return out;
}

/** -long: old long form, one `Name = expr` per line, ads separated by blank lines. */
export function formatLong(ads: readonly WireAd[]): string {
  return ads.map((attrs) => toAd(attrs).toString("old")).join("\n");
}

/** -json: an array of objects; literal attributes as JSON values, expressions marked as such. */
export function formatJson(ads: readonly WireAd[]): string {
  return adsJson(ads.map((attrs) => toAd(attrs).attributeExprs()));
}

/** Seconds as condor_status prints activity time: D+HH:MM:SS. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const d = Math.floor(s / 86_400);
  const hh = String(Math.floor((s % 86_400) / 3600)).padStart(2, "0");
  const mm = String(Math.floor((s % 3600) / 60)).padStart(2, "0");
  const ss = String(s % 60).padStart(2, "0");
  return `${d}+${hh}:${mm}:${ss}`;
}

function table(header: readonly string[], rows: readonly string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join(" ")
      .trimEnd();
  return [line(header), ...rows.map(line)].join("\n") + "\n";
}

function show(ad: ClassAd, name: string): string {
  const v = ad.evaluate(name);
  return v === UNDEFINED ? "-" : autoformatValue(v);
}

/** The default slot table: Name, site, cpus, memory, state, activity, activity time. */
export function formatSlotTable(ads: readonly WireAd[], nowSeconds: number): string {
  const rows = ads
    .map(toAd)
    .map((ad) => {
      const entered = ad.evaluate(SLOT.EnteredCurrentActivity);
      const since = typeof entered === "number" ? formatDuration(nowSeconds - entered) : "-";
      return [
        show(ad, COMMON.Name),
        show(ad, SLOT.Site),
        show(ad, SLOT.Cpus),
        show(ad, SLOT.Memory),
        show(ad, SLOT.State),
        show(ad, SLOT.Activity),
        since,
      ];
    })
    .sort((a, b) => a[0]!.localeCompare(b[0]!));
  return table(["Name", "Site", "Cpus", "Memory", "State", "Activity", "ActvtyTime"], rows);
}

/** The table for other types: name, type, writer, seconds since last heard. */
export function formatAdTable(ads: readonly WireAd[], nowSeconds: number): string {
  const rows = ads
    .map(toAd)
    .map((ad) => {
      const heard = ad.evaluate(COMMON.LastHeardFrom);
      const age = typeof heard === "number" ? formatDuration(nowSeconds - heard) : "-";
      return [
        show(ad, COMMON.MyType),
        show(ad, COMMON.Name),
        show(ad, COMMON.AuthenticatedIdentity),
        age,
      ];
    })
    .sort((a, b) => a[0]!.localeCompare(b[0]!) || a[1]!.localeCompare(b[1]!));
  return table(["Type", "Name", "AuthenticatedIdentity", "Age"], rows);
}

/** -total: ads, cpus, memory, and claimed/unclaimed slots, per type and site, with a grand total. */
export function formatTotals(ads: readonly WireAd[]): string {
  type Sum = { ads: number; cpus: number; memory: number; claimed: number; unclaimed: number };
  const sums = new Map<string, { type: string; site: string; sum: Sum }>();
  const total: Sum = { ads: 0, cpus: 0, memory: 0, claimed: 0, unclaimed: 0 };
  for (const attrs of ads) {
    const ad = toAd(attrs);
    const type = show(ad, COMMON.MyType);
    const site = show(ad, SLOT.Site);
    const key = `${type}\u0000${site}`;
    let row = sums.get(key);
    if (!row)
      sums.set(
        key,
        (row = { type, site, sum: { ads: 0, cpus: 0, memory: 0, claimed: 0, unclaimed: 0 } }),
      );
    const state = ad.evaluate(SLOT.State);
    for (const s of [row.sum, total]) {
      s.ads++;
      s.cpus += ad.getNumber(SLOT.Cpus) ?? 0;
      s.memory += ad.getNumber(SLOT.Memory) ?? 0;
      if (state === "Claimed") s.claimed++;
      if (state === "Unclaimed") s.unclaimed++;
    }
  }
  const cells = (s: Sum) => [
    String(s.ads),
    String(s.cpus),
    String(s.memory),
    String(s.claimed),
    String(s.unclaimed),
  ];
  const rows = [...sums.values()]
    .sort((a, b) => a.type.localeCompare(b.type) || a.site.localeCompare(b.site))
    .map((r) => [r.type, r.site, ...cells(r.sum)]);
  rows.push(["Total", "", ...cells(total)]);
  return table(["Type", "Site", "Ads", "Cpus", "Memory", "Claimed", "Unclaimed"], rows);
}
