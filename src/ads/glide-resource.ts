/**
 * GlideResource: a frontend group's view of one entry, for monitoring (`frontend status`). The
 * limits and curbs that bound the request appear each as its own attribute, named by a prefix
 * and the limit, as glideinWMS's glideresource ads carry them.
 */
import { ClassAd } from "../classad/index.js";
import { AD_TYPE, COMMON, GLIDE_RESOURCE as A } from "./names.js";

export interface GlideResourceAd {
  name: string;
  glideClientName: string;
  frontendName: string;
  groupName: string;
  /** The GlideFactory ad Name of the entry. */
  glideFactoryEntry: string;
  inDowntime: boolean;
  jobsIdle: number;
  jobsIdleMatching: number;
  jobsIdleEffective: number;
  jobsIdleUnique: number;
  glideinsIdle: number;
  glideinsRunning: number;
  glideinsHeld: number;
  glideinsTotal: number;
  glideinsRequestIdle: number;
  glideinsRequestMaxRun: number;
  /** The reasons that bound the request, `; `-separated. */
  limitsTriggered: string;
  /** `GlideClientLimit_<X>` by X. */
  limits: Readonly<Record<string, string>>;
  /** `GlideClientCurb_<X>` by X. */
  curbs: Readonly<Record<string, string>>;
  /** Jobs whose match expression evaluated to an error; absent when none did. */
  matchErrors?: number;
  matchExpr: string;
}

export function writeGlideResource(r: GlideResourceAd): ClassAd {
  const ad = new ClassAd()
    .setValue(COMMON.MyType, AD_TYPE.GlideResource)
    .setValue(COMMON.Name, r.name)
    .setValue(A.GlideClientName, r.glideClientName)
    .setValue(A.FrontendName, r.frontendName)
    .setValue(A.GroupName, r.groupName)
    .setValue(A.GlideFactoryEntry, r.glideFactoryEntry)
    .setValue(A.InDowntime, r.inDowntime)
    .setValue(A.JobsIdle, r.jobsIdle)
    .setValue(A.JobsIdleMatching, r.jobsIdleMatching)
    .setValue(A.JobsIdleEffective, r.jobsIdleEffective)
    .setValue(A.JobsIdleUnique, r.jobsIdleUnique)
    .setValue(A.GlideinsIdle, r.glideinsIdle)
    .setValue(A.GlideinsRunning, r.glideinsRunning)
    .setValue(A.GlideinsHeld, r.glideinsHeld)
    .setValue(A.GlideinsTotal, r.glideinsTotal)
    .setValue(A.GlideinsRequestIdle, r.glideinsRequestIdle)
    .setValue(A.GlideinsRequestMaxRun, r.glideinsRequestMaxRun)
    .setValue(A.LimitsTriggered, r.limitsTriggered);
  for (const [k, v] of Object.entries(r.limits)) ad.setValue(A.LimitPrefix + k, v);
  for (const [k, v] of Object.entries(r.curbs)) ad.setValue(A.CurbPrefix + k, v);
  if (r.matchErrors !== undefined) ad.setValue(A.MatchErrors, r.matchErrors);
  ad.setValue(A.MatchExpr, r.matchExpr);
  return ad;
}

/** Every field typed; undefined where absent or mistyped. */
export type ReadGlideResource = Partial<GlideResourceAd> & {
  limits: Record<string, string>;
  curbs: Record<string, string>;
  lastHeardFrom?: number;
  authenticatedIdentity?: string;
};

/** String attributes named `<prefix><X>`, by X (the prefix matched without regard to case). */
function prefixed(ad: ClassAd, prefix: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lower = prefix.toLowerCase();
  for (const key of ad.names()) {
    if (!key.toLowerCase().startsWith(lower) || key.length === prefix.length) continue;
    const v = ad.getString(key);
    if (v !== undefined) out[key.slice(prefix.length)] = v;
  }
  return out;
}

export function readGlideResource(ad: ClassAd): ReadGlideResource {
  return {
    name: ad.getString(COMMON.Name),
    glideClientName: ad.getString(A.GlideClientName),
    frontendName: ad.getString(A.FrontendName),
    groupName: ad.getString(A.GroupName),
    glideFactoryEntry: ad.getString(A.GlideFactoryEntry),
    inDowntime: ad.getBool(A.InDowntime),
    jobsIdle: ad.getNumber(A.JobsIdle),
    jobsIdleMatching: ad.getNumber(A.JobsIdleMatching),
    jobsIdleEffective: ad.getNumber(A.JobsIdleEffective),
    jobsIdleUnique: ad.getNumber(A.JobsIdleUnique),
    glideinsIdle: ad.getNumber(A.GlideinsIdle),
    glideinsRunning: ad.getNumber(A.GlideinsRunning),
    glideinsHeld: ad.getNumber(A.GlideinsHeld),
    glideinsTotal: ad.getNumber(A.GlideinsTotal),
    glideinsRequestIdle: ad.getNumber(A.GlideinsRequestIdle),
    glideinsRequestMaxRun: ad.getNumber(A.GlideinsRequestMaxRun),
    limitsTriggered: ad.getString(A.LimitsTriggered),
    limits: prefixed(ad, A.LimitPrefix),
    curbs: prefixed(ad, A.CurbPrefix),
    matchErrors: ad.getNumber(A.MatchErrors),
    matchExpr: ad.getString(A.MatchExpr),
    lastHeardFrom: ad.getNumber(COMMON.LastHeardFrom),
    authenticatedIdentity: ad.getString(COMMON.AuthenticatedIdentity),
  };
}
