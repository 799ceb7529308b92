/**
 * GlideFactoryClient: what the factory sees for one (entry, client). The counts appear twice:
 * under glideinWMS's per-client names and under the totals' names the frontend reads.
 */
import { ClassAd, unparseValue } from "../classad/index.js";
import { AD_TYPE, COMMON, GLIDE_FACTORY_CLIENT as A } from "./names.js";

export interface GlideFactoryClientAd {
  name: string;
  reqGlidein: string;
  reqClientName: string;
  reqFrontendName: string;
  entryName: string;
  factoryName: string;
  idle: number;
  running: number;
  held: number;
  requestedIdle: number;
  requestedMaxGlideins: number;
  /** Comma-separated limit names, as glideinWMS prints them. */
  limitsHit: string;
  failedPilots: number;
  finishedPilots: number;
  /** `Class:count,...`; empty when none failed. */
  failedByClass: string;
  lastFailure: string;
  lifetimeS: number;
}

/**
 * The ad's attributes, each value passed through `v`. One object literal, so the attribute list
 * is written once and each caller builds its result in one step.
 */
function attributes<T>(r: GlideFactoryClientAd, v: (x: string | number) => T): Record<string, T> {
  return {
    [COMMON.MyType]: v(AD_TYPE.GlideFactoryClient),
    [COMMON.Name]: v(r.name),
    [A.ReqGlidein]: v(r.reqGlidein),
    [A.ReqClientName]: v(r.reqClientName),
    [A.ReqFrontendName]: v(r.reqFrontendName),
    [A.EntryName]: v(r.entryName),
    [A.FactoryName]: v(r.factoryName),
    [A.StatusIdle]: v(r.idle),
    [A.StatusRunning]: v(r.running),
    [A.StatusHeld]: v(r.held),
    [A.StatusTotal]: v(r.idle + r.running + r.held),
    [A.TotalStatusIdle]: v(r.idle),
    [A.TotalStatusRunning]: v(r.running),
    [A.TotalStatusHeld]: v(r.held),
    [A.RequestedIdle]: v(r.requestedIdle),
    [A.RequestedMaxGlideins]: v(r.requestedMaxGlideins),
    [A.LimitsHit]: v(r.limitsHit),
    [A.FailedPilots]: v(r.failedPilots),
    [A.FinishedPilots]: v(r.finishedPilots),
    [A.FailedByClass]: v(r.failedByClass),
    [A.LastFailure]: v(r.lastFailure),
    [COMMON.ClassAdLifetime]: v(r.lifetimeS),
  };
}

const asIs = (x: string | number): string | number => x;

export function writeGlideFactoryClient(r: GlideFactoryClientAd): ClassAd {
  const ad = new ClassAd();
  for (const [name, value] of Object.entries(attributes(r, asIs))) ad.setValue(name, value);
  return ad;
}

/**
 * The same ad in its wire form (attribute name to expression text, as `ClassAd.toJSON` gives),
 * written without building the ad: a factory sends one per entry and client each cycle, 10,000
 * at 500 entries and 20 clients.
 */
export function glideFactoryClientWire(r: GlideFactoryClientAd): Record<string, string> {
  return attributes(r, unparseValue);
}

/** Every field typed; undefined where absent or mistyped. */
export function readGlideFactoryClient(ad: ClassAd): Partial<GlideFactoryClientAd> {
  return {
    name: ad.getString(COMMON.Name),
    reqGlidein: ad.getString(A.ReqGlidein),
    reqClientName: ad.getString(A.ReqClientName),
    reqFrontendName: ad.getString(A.ReqFrontendName),
    entryName: ad.getString(A.EntryName),
    factoryName: ad.getString(A.FactoryName),
    idle: ad.getInteger(A.StatusIdle) ?? ad.getInteger(A.TotalStatusIdle),
    running: ad.getInteger(A.StatusRunning) ?? ad.getInteger(A.TotalStatusRunning),
    held: ad.getInteger(A.StatusHeld) ?? ad.getInteger(A.TotalStatusHeld),
    requestedIdle: ad.getInteger(A.RequestedIdle),
    requestedMaxGlideins: ad.getInteger(A.RequestedMaxGlideins),
    limitsHit: ad.getString(A.LimitsHit),
    failedPilots: ad.getInteger(A.FailedPilots),
    finishedPilots: ad.getInteger(A.FinishedPilots),
    failedByClass: ad.getString(A.FailedByClass),
    lastFailure: ad.getString(A.LastFailure),
    lifetimeS: ad.getInteger(COMMON.ClassAdLifetime),
  };
}

/** `Network:1,WN_Resource:2` → { Network: 1, WN_Resource: 2 }; malformed parts are skipped. */
export function parseClassCounts(s: string | undefined): Record<string, number> {
  const out: Record<string, number> = Object.create(null) as Record<string, number>;
  for (const part of (s ?? "").split(",").slice(0, 32)) {
    const m = /^([A-Za-z_]{1,40}):(\d{1,12})$/.exec(part.trim());
    if (m) out[m[1] as string] = (out[m[1] as string] ?? 0) + Number(m[2]);
  }
  return out;
}

export function formatClassCounts(counts: Readonly<Record<string, number>>): string {
  return Object.keys(counts)
    .sort()
    .filter((k) => (counts[k] ?? 0) > 0)
    .map((k) => `${k}:${counts[k]}`)
    .join(",");
}
