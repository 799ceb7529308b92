/**
 * GlideFactory: one factory entry, as frontends match against it. The writer gives the fixed
 * attributes; the entry's published attributes (GLIDEIN_Site, GLIDEIN_CPUS...) are the factory
 * configuration's and are added by the factory after it. The reader reads the fixed ones and
 * the published ones frontends rely on.
 */
import { ClassAd, ListValue } from "../classad/index.js";
import { AD_TYPE, COMMON, GLIDE_FACTORY as A } from "./names.js";

export interface GlideFactoryAd {
  name: string;
  entryName: string;
  factoryName: string;
  gridType: string;
  gatekeeper: string;
  inDowntime: boolean;
  pubKeyType: string;
  /** PEM public key frontends encrypt the pilot credential to. */
  pubKeyValue: string;
  pubKeyId: string;
  totalIdle: number;
  totalRunning: number;
  totalHeld: number;
  lifetimeS: number;
  /** Cycles in a row in which every submission to the CE failed. */
  submitFailures: number;
  /** Until when (epoch seconds) the factory holds off submitting; 0 when it does not. */
  submitBackoffUntilS: number;
  submitLastError?: string;
  /** Pilots in a row that failed validation. */
  validationFailures: number;
  /** Until when (epoch seconds) the factory holds off for them; 0 when it does not. */
  validationBackoffUntilS: number;
  validationLastFailure?: string;
  /** Core-seconds of the entry's running pilots, all time (only grows). */
  pilotCoreSeconds?: number;
  /** The entry's last failed pilots, newest first. */
  recentFailures?: readonly RecentPilotFailure[];
}

export interface RecentPilotFailure {
  /** Epoch seconds. */
  timeS: number;
  client: string;
  failureClass: string;
  error: string;
}

export function writeGlideFactory(r: GlideFactoryAd): ClassAd {
  const ad = new ClassAd()
    .setValue(COMMON.MyType, AD_TYPE.GlideFactory)
    .setValue(COMMON.Name, r.name)
    .setValue(A.EntryName, r.entryName)
    .setValue(A.FactoryName, r.factoryName)
    .setValue(A.GridType, r.gridType)
    .setValue(A.Gatekeeper, r.gatekeeper)
    .setValue(A.InDowntime, r.inDowntime)
    .setValue(A.PubKeyType, r.pubKeyType)
    .setValue(A.PubKeyValue, r.pubKeyValue)
    .setValue(A.PubKeyID, r.pubKeyId)
    .setValue(A.TotalStatusIdle, r.totalIdle)
    .setValue(A.TotalStatusRunning, r.totalRunning)
    .setValue(A.TotalStatusHeld, r.totalHeld)
    .setValue(COMMON.ClassAdLifetime, r.lifetimeS)
    .setValue(A.SubmitFailures, r.submitFailures)
    .setValue(A.SubmitBackoffUntil, r.submitBackoffUntilS);
  if (r.submitLastError) ad.setValue(A.SubmitLastError, r.submitLastError);
  ad.setValue(A.ValidationFailures, r.validationFailures);
  ad.setValue(A.ValidationBackoffUntil, r.validationBackoffUntilS);
  if (r.validationLastFailure) ad.setValue(A.ValidationLastFailure, r.validationLastFailure);
  if (r.pilotCoreSeconds !== undefined) ad.setValue(A.PilotCoreSeconds, r.pilotCoreSeconds);
  if (r.recentFailures !== undefined) {
    ad.set(A.RecentFailures, {
      kind: "list",
      items: r.recentFailures.map((f) => {
        const item = new ClassAd()
          .setValue("Time", f.timeS)
          .setValue("Client", f.client)
          .setValue("FailureClass", f.failureClass)
          .setValue("Message", f.error);
        return { kind: "classad", attrs: [...item.attributeExprs()] };
      }),
    });
  }
  return ad;
}

/** The well-formed items of the recent failures list, at most `max`; none when mistyped. */
export function readRecentFailures(ad: ClassAd, max = 20): RecentPilotFailure[] {
  const list = ad.evaluate(A.RecentFailures);
  if (!(list instanceof ListValue)) return [];
  const out: RecentPilotFailure[] = [];
  for (const item of list.items) {
    if (out.length >= max) break;
    if (!(item instanceof ClassAd)) continue;
    const timeS = item.getInteger("Time");
    const client = item.getString("Client");
    const failureClass = item.getString("FailureClass");
    const error = item.getString("Message");
    if (timeS === undefined || client === undefined) continue;
    if (failureClass === undefined || error === undefined) continue;
    out.push({ timeS, client, failureClass, error });
  }
  return out;
}

/** Every field typed; undefined where absent or mistyped. */
export type ReadGlideFactory = Partial<GlideFactoryAd> & {
  /** Published by the entry; frontends fall back to "grid". */
  trustDomain?: string;
  /** Published by the entry. */
  glideinCpus?: number;
  site?: string;
  authenticatedIdentity?: string;
};

export function readGlideFactory(ad: ClassAd): ReadGlideFactory {
  return {
    name: ad.getString(COMMON.Name),
    entryName: ad.getString(A.EntryName),
    factoryName: ad.getString(A.FactoryName),
    gridType: ad.getString(A.GridType),
    gatekeeper: ad.getString(A.Gatekeeper),
    inDowntime: ad.getBool(A.InDowntime),
    pubKeyType: ad.getString(A.PubKeyType),
    pubKeyValue: ad.getString(A.PubKeyValue),
    pubKeyId: ad.getString(A.PubKeyID),
    totalIdle: ad.getInteger(A.TotalStatusIdle),
    totalRunning: ad.getInteger(A.TotalStatusRunning),
    totalHeld: ad.getInteger(A.TotalStatusHeld),
    lifetimeS: ad.getInteger(COMMON.ClassAdLifetime),
    submitFailures: ad.getInteger(A.SubmitFailures),
    submitBackoffUntilS: ad.getInteger(A.SubmitBackoffUntil),
    submitLastError: ad.getString(A.SubmitLastError),
    validationFailures: ad.getInteger(A.ValidationFailures),
    validationBackoffUntilS: ad.getInteger(A.ValidationBackoffUntil),
    validationLastFailure: ad.getString(A.ValidationLastFailure),
    pilotCoreSeconds: ad.getNumber(A.PilotCoreSeconds),
    trustDomain: ad.getString(A.TrustDomain),
    glideinCpus: ad.getNumber(A.GlideinCpus),
    site: ad.getString(A.Site),
    authenticatedIdentity: ad.getString(COMMON.AuthenticatedIdentity),
  };
}
