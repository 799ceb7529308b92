/** Collector: the collector's own ad, its ad counts by type and its update rates. */
import { ClassAd } from "../classad/index.js";
import { AD_TYPE, COLLECTOR as A, COMMON } from "./names.js";

export interface CollectorAd {
  name: string;
  daemonStartTimeS: number;
  updatesTotal: number;
  updatesLastMinute: number;
  updatesPerSecond: number;
  lifetimeS: number;
  /** Ads held by type (the collector's own type left out), each as `<type>Ads`. */
  adsByType: Readonly<Record<string, number>>;
}

export function writeCollector(r: CollectorAd): ClassAd {
  const ad = new ClassAd()
    .setValue(COMMON.MyType, AD_TYPE.Collector)
    .setValue(COMMON.Name, r.name)
    .setValue(A.DaemonStartTime, r.daemonStartTimeS)
    .setValue(A.UpdatesTotal, r.updatesTotal)
    .setValue(A.UpdatesLastMinute, r.updatesLastMinute)
    // Three decimals are enough for a rate and keep the text short.
    .set(A.UpdatesPerSecond, r.updatesPerSecond.toFixed(3))
    .setValue(COMMON.ClassAdLifetime, r.lifetimeS);
  let total = 0;
  for (const [type, n] of Object.entries(r.adsByType)) {
    ad.setValue(type + A.AdsSuffix, n);
    total += n;
  }
  return ad.setValue(A.TotalAds, total);
}

export type ReadCollector = Partial<Omit<CollectorAd, "adsByType">> & {
  totalAds?: number;
};

/** Every field typed; undefined where absent or mistyped. Counts by type need the types asked. */
export function readCollector(ad: ClassAd): ReadCollector {
  return {
    name: ad.getString(COMMON.Name),
    daemonStartTimeS: ad.getInteger(A.DaemonStartTime),
    updatesTotal: ad.getInteger(A.UpdatesTotal),
    updatesLastMinute: ad.getInteger(A.UpdatesLastMinute),
    updatesPerSecond: ad.getNumber(A.UpdatesPerSecond),
    lifetimeS: ad.getInteger(COMMON.ClassAdLifetime),
    totalAds: ad.getInteger(A.TotalAds),
  };
}

/** How many ads of `type` the collector said it holds. */
export function collectorAdCount(ad: ClassAd, type: string): number | undefined {
  return ad.getInteger(type + A.AdsSuffix);
}
