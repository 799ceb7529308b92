/**
 * `updraft frontend status`, pure: the frontends' `GlideResource` (monitoring) and `GlideClient`
 * (request) ads as the collector holds them, joined per (frontend, group, entry), with what was
 * matched, what was requested and which limit or curb bound it; as a table or JSON.
 */
import {
  COMMON,
  GLIDE_CLIENT,
  GLIDE_RESOURCE,
  readGlideClient,
  readGlideResource,
  type ReadGlideResource,
} from "../ads/index.js";
import { describeGlideinAttr, glideClientAttrs, type GlideinAttr } from "../ads/glidein-attrs.js";
import { VO_BUNDLE_SHA256_PARAM } from "../common/vo-bundle.js";
import { ClassAd, tryParse } from "../classad/index.js";

export type WireAd = Readonly<Record<string, string>>;

export interface EntryStatus {
  frontend: string;
  group: string;
  entry: string;
  inDowntime: boolean;
  /**
   * Idle jobs matching the entry (as `frontend plan` names them): all of them (count), its
   * proportional share (prop), that share less idle pilots already there (effective), and
   * those that match only here (hereonly). Null when the GlideResource ad is missing.
   */
  jobs: { count: number; prop: number; effective: number; hereonly: number } | null;
  /** This group's pilots at the entry. */
  pilots: { idle: number; running: number; held: number; total: number } | null;
  /** What the factory is asked for, from the GlideClient ad; null: no request advertised. */
  request: { idle: number; max: number; removeExcess: string; removeMargin: number } | null;
  /** The limits and curbs that bound the request, as the frontend described them. */
  boundBy: string[];
  /** GlideClientLimit_* and GlideClientCurb_* attributes: which count met which limit. */
  limits: Record<string, string>;
  matchErrors: number;
  /** LastHeardFrom of the newest of the two ads (seconds), when the collector stamped it. */
  updated: number | null;
  /** AuthenticatedIdentity of the writer, as the collector recorded it. */
  writer: string | null;
  /** The attributes the group's GlideClient ad sends pilots; null: no request advertised. */
  attrs: GlideinAttr[] | null;
  /** The VO scripts and job wrapper the group sends (`start: file; ...`), from its GlideResource ad. */
  voScripts: string | null;
  /** The SHA-256 of the VO bundle its GlideClient ad names, when it names one. */
  voBundle: string | null;
}

export interface StatusFilter {
  frontend?: string;
  group?: string;
}

function parse(ad: WireAd): ClassAd | undefined {
  const r = tryParse(() => ClassAd.fromJSON(ad));
  return r.ok ? r.value : undefined;
}

/** Frontend and group of an ad: its own attributes, else split from `<frontend>.<group>`. */
function owner(ad: ClassAd): { frontend: string; group: string } | undefined {
  const frontend = ad.getString(GLIDE_RESOURCE.FrontendName);
  const group = ad.getString(GLIDE_RESOURCE.GroupName);
  if (frontend !== undefined && group !== undefined) return { frontend, group };
  const client =
    ad.getString(GLIDE_RESOURCE.GlideClientName) ?? ad.getString(GLIDE_CLIENT.ClientName);
  if (client === undefined) return undefined;
  const dot = client.indexOf(".");
  return dot < 0
    ? { frontend: client, group: "" }
    : { frontend: client.slice(0, dot), group: client.slice(dot + 1) };
}

function fromResource(r: ReadGlideResource): Pick<EntryStatus, "jobs" | "pilots"> {
  return {
    jobs: {
      count: r.jobsIdle ?? 0,
      prop: r.jobsIdleMatching ?? 0,
      effective: r.jobsIdleEffective ?? 0,
      hereonly: r.jobsIdleUnique ?? 0,
    },
    pilots: {
      idle: r.glideinsIdle ?? 0,
      running: r.glideinsRunning ?? 0,
      held: r.glideinsHeld ?? 0,
      total: r.glideinsTotal ?? 0,
    },
  };
}

/** `Limit_<X>` and `Curb_<X>`, as the attributes are named after `GlideClient`. */
function limitsOf(r: ReadGlideResource): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(r.limits)) out[`Limit_${k}`] = v;
  for (const [k, v] of Object.entries(r.curbs)) out[`Curb_${k}`] = v;
  return out;
}

/**
 * The same ad read from several collectors: the one heard from last (LastHeardFrom) wins, so
 * a collector still holding an old copy does not hide a newer request.
 */
export function newestByName(ads: readonly WireAd[]): WireAd[] {
  const best = new Map<string, { ad: WireAd; heard: number }>();
  const unnamed: WireAd[] = [];
  for (const wire of ads) {
    const ad = parse(wire);
    const name = ad?.getString(COMMON.Name);
    if (name === undefined) {
      unnamed.push(wire);
      continue;
    }
    const key = `${ad?.getString(COMMON.MyType) ?? ""}\n${name}`;
    const heard = ad?.getNumber(COMMON.LastHeardFrom) ?? 0;
    const had = best.get(key);
    if (had === undefined || heard > had.heard) best.set(key, { ad: wire, heard });
  }
  return [...[...best.values()].map((b) => b.ad), ...unnamed];
}

/**
 * One row per (frontend, group, entry) that has a GlideResource or a GlideClient ad, joined on
 * the ads' Name (`<entry>@<frontend>.<group>` for both), sorted by frontend, group and entry.
 */
export function entryStatuses(
  resources: readonly WireAd[],
  clients: readonly WireAd[],
  filter: StatusFilter = {},
): EntryStatus[] {
  const byName = new Map<string, { resource?: ClassAd; client?: ClassAd }>();
  const add = (ads: readonly WireAd[], kind: "resource" | "client") => {
    for (const wire of ads) {
      const ad = parse(wire);
      const name = ad?.getString(COMMON.Name);
      if (ad === undefined || name === undefined) continue;
      const slot = byName.get(name) ?? {};
      slot[kind] = ad;
      byName.set(name, slot);
    }
  };
  add(resources, "resource");
  add(clients, "client");
  const rows: EntryStatus[] = [];
  for (const { resource: resourceAd, client } of byName.values()) {
    const ad = (resourceAd ?? client)!;
    const resource = resourceAd && readGlideResource(resourceAd);
    const who = owner(ad);
    if (who === undefined) continue;
    if (filter.frontend !== undefined && who.frontend !== filter.frontend) continue;
    if (filter.group !== undefined && who.group !== filter.group) continue;
    const entry = resource?.glideFactoryEntry ?? client?.getString(GLIDE_CLIENT.ReqName) ?? "";
    const triggered = resource?.limitsTriggered ?? "";
    const heard = [resource?.lastHeardFrom, client?.getNumber(COMMON.LastHeardFrom)].filter(
      (t): t is number => t !== undefined,
    );
    rows.push({
      ...who,
      entry,
      inDowntime: resource?.inDowntime === true,
      ...(resource ? fromResource(resource) : { jobs: null, pilots: null }),
      request: client
        ? {
            idle: client.getNumber(GLIDE_CLIENT.ReqIdleGlideins) ?? 0,
            max: client.getNumber(GLIDE_CLIENT.ReqMaxGlideins) ?? 0,
            removeExcess: client.getString(GLIDE_CLIENT.ReqRemoveExcess) ?? "NO",
            removeMargin: client.getNumber(GLIDE_CLIENT.ReqRemoveExcessMargin) ?? 0,
          }
        : null,
      boundBy: triggered === "" ? [] : triggered.split("; "),
      limits: resource ? limitsOf(resource) : {},
      matchErrors: resource?.matchErrors ?? 0,
      updated: heard.length > 0 ? Math.max(...heard) : null,
      writer: ad.getString(COMMON.AuthenticatedIdentity) ?? null,
      attrs: client ? glideClientAttrs(readGlideClient(client)) : null,
      voScripts: resourceAd?.getString(GLIDE_RESOURCE.VoScripts) ?? null,
      voBundle:
        client?.getString(GLIDE_CLIENT.ParamPrefix + VO_BUNDLE_SHA256_PARAM)?.slice(0, 64) ?? null,
    });
  }
  const key = (r: EntryStatus) => [r.frontend, r.group, r.entry];
  return rows.sort((a, b) => {
    const ka = key(a);
    const kb = key(b);
    for (let i = 0; i < ka.length; i++) {
      const c = ka[i]!.localeCompare(kb[i]!);
      if (c !== 0) return c;
    }
    return 0;
  });
}

function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join(" ")
      .trimEnd();
  return [line(header), ...rows.map(line)];
}

/** Why the row's request is what it is, in a few words. */
function why(r: EntryStatus): string {
  const parts = [...r.boundBy];
  if (r.request === null) parts.unshift("no request advertised (not wanted, or withdrawn)");
  if (r.matchErrors > 0) parts.push(`match errors: ${r.matchErrors}`);
  return parts.join("; ") || "-";
}

const dash = (v: number | undefined) => (v === undefined ? "-" : String(v));

/** condor_status-like: one table per frontend group, then a totals line. */
export function formatStatus(rows: readonly EntryStatus[]): string {
  if (rows.length === 0) return "no GlideResource or GlideClient ads match\n";
  const groups = new Map<string, EntryStatus[]>();
  for (const r of rows) {
    const k = `${r.frontend}.${r.group}`;
    groups.set(k, [...(groups.get(k) ?? []), r]);
  }
  const out: string[] = [];
  for (const [client, members] of groups) {
    const req = members.reduce((s, r) => s + (r.request?.idle ?? 0), 0);
    out.push(
      `frontend ${members[0]!.frontend}, group ${members[0]!.group} (client ${client}): ` +
        `${members.length} entries, ${req} idle pilots requested`,
    );
    const sent = members.find((r) => r.attrs !== null)?.attrs;
    if (sent?.length) out.push(`attrs sent: ${sent.map(describeGlideinAttr).join(", ")}`);
    const scripts = members.find((r) => r.voScripts)?.voScripts;
    const bundle = members.find((r) => r.voBundle)?.voBundle;
    if (scripts || bundle) {
      out.push(
        `scripts sent: ${scripts ?? "(not described)"}` +
          (bundle ? ` (bundle ${bundle.slice(0, 12)})` : ""),
      );
    }
    out.push(
      ...table(
        [
          "ENTRY",
          "COUNT",
          "PROP",
          "EFFECTIVE",
          "HEREONLY",
          "P_IDLE",
          "P_RUN",
          "P_HELD",
          "REQ_IDLE",
          "REQ_MAX",
          "REMOVE",
          "BOUND BY",
        ],
        members.map((r) => [
          r.entry + (r.inDowntime ? " (down)" : ""),
          dash(r.jobs?.count),
          dash(r.jobs?.prop),
          dash(r.jobs?.effective),
          dash(r.jobs?.hereonly),
          dash(r.pilots?.idle),
          dash(r.pilots?.running),
          dash(r.pilots?.held),
          dash(r.request?.idle),
          dash(r.request?.max),
          r.request === null
            ? "-"
            : r.request.removeExcess === "NO"
              ? "NO"
              : `${r.request.removeExcess}+${r.request.removeMargin}`,
          why(r),
        ]),
      ),
    );
    out.push("");
  }
  const sum = (f: (r: EntryStatus) => number | undefined) =>
    rows.reduce((s, r) => s + (f(r) ?? 0), 0);
  out.push(
    `Total: ${rows.length} entries; idle jobs matched ${sum((r) => r.jobs?.prop)}; ` +
      `pilots idle ${sum((r) => r.pilots?.idle)}, running ${sum((r) => r.pilots?.running)}; ` +
      `requested idle ${sum((r) => r.request?.idle)}, max ${sum((r) => r.request?.max)}`,
  );
  return `${out.join("\n")}\n`;
}
