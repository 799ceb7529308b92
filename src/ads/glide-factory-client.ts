/**
 * GlideFactoryClient: what the factory sees for one (entry, client). The counts appear twice:
 * under glideinWMS's per-client names and under the totals' names the frontend reads.
 */
import { ClassAd } from "../classad/index.js";
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

export function writeGlideFactoryClient(r: GlideFactoryClientAd): ClassAd {
  return new ClassAd()
    .setValue(COMMON.MyType, AD_TYPE.GlideFactoryClient)
    .setValue(COMMON.Name, r.name)
    .setValue(A.ReqGlidein, r.reqGlidein)
    .setValue(A.ReqClientName, r.reqClientName)
    .setValue(A.ReqFrontendName, r.reqFrontendName)
    .setValue(A.EntryName, r.entryName)
    .setValue(A.FactoryName, r.factoryName)
    .setValue(A.StatusIdle, r.idle)
    .setValue(A.StatusRunning, r.running)
    .setValue(A.StatusHeld, r.held)
    .setValue(A.StatusTotal, r.idle + r.running + r.held)
    .setValue(A.TotalStatusIdle, r.idle)
    .setValue(A.TotalStatusRunning, r.running)
    .setValue(A.TotalStatusHeld, r.held)
    .setValue(A.RequestedIdle, r.requestedIdle)
    .setValue(A.RequestedMaxGlideins, r.requestedMaxGlideins)
    .setValue(A.LimitsHit, r.limitsHit)
    .setValue(A.FailedPilots, r.failedPilots)
    .setValue(A.FinishedPilots, r.finishedPilots)
    .setValue(A.FailedByClass, r.failedByClass)
    .setValue(A.LastFailure, r.lastFailure)
    .setValue(COMMON.ClassAdLifetime, r.lifetimeS);
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
