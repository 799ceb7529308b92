/**
 * The ads the factory writes, built from plain values: one `GlideFactory` per enabled entry
 * (what frontends match against) and one `GlideFactoryClient` per (entry, client) (what the
 * factory sees for that client). Names follow glideinWMS so operators recognise them.
 */
import { entryCeAudience } from "./submit-tokens.js";
import { glideFactoryClientWire, writeGlideFactory } from "../ads/index.js";
import { ClassAd } from "../classad/index.js";
import type { EntryConfig } from "./config.js";
import type { ClientCounts, SubmitBound } from "./decide-types.js";
import type { RecentFailure } from "./recent-failures.js";

export function entryAdName(entry: string, factory: string): string {
  return `${entry}@${factory}`;
}

export interface FactoryAdInput {
  factory: string;
  entry: EntryConfig;
  inDowntime: boolean;
  pubKeyPem: string;
  pubKeyId: string;
  totals: ClientCounts;
  lifetimeS: number;
  /** Set while the entry's CE refuses submissions (see entry-backoff.ts). */
  submitBackoff?: { failures: number; until: number; lastError?: string };
  /** Set while the entry's pilots keep failing validation (see validation-backoff.ts). */
  validationBackoff?: { failures: number; until: number; lastFailure?: string };
  /** Core-seconds of the entry's running pilots, all time. */
  pilotCoreSeconds?: number;
  /** The entry's last failed pilots, newest first. */
  recentFailures?: readonly RecentFailure[];
}

export function buildGlideFactoryAd(x: FactoryAdInput): ClassAd {
  const ad = writeGlideFactory({
    name: entryAdName(x.entry.name, x.factory),
    entryName: x.entry.name,
    factoryName: x.factory,
    gridType: x.entry.gridtype,
    // An ARC entry without a gatekeeper advertises its endpoint: frontends take a CE token's
    // audience from it.
    gatekeeper: x.entry.gatekeeper || entryCeAudience(x.entry),
    inDowntime: x.inDowntime,
    pubKeyType: "RSA",
    pubKeyValue: x.pubKeyPem,
    pubKeyId: x.pubKeyId,
    totalIdle: x.totals.idle,
    totalRunning: x.totals.running,
    totalHeld: x.totals.held,
    lifetimeS: x.lifetimeS,
    submitFailures: x.submitBackoff?.failures ?? 0,
    submitBackoffUntilS: Math.floor((x.submitBackoff?.until ?? 0) / 1000),
    submitLastError: x.submitBackoff?.lastError,
    validationFailures: x.validationBackoff?.failures ?? 0,
    validationBackoffUntilS: Math.floor((x.validationBackoff?.until ?? 0) / 1000),
    validationLastFailure: x.validationBackoff?.lastFailure,
    pilotCoreSeconds: x.pilotCoreSeconds,
    recentFailures: x.recentFailures?.map((f) => ({
      timeS: Math.floor(f.at / 1000),
      client: f.client,
      failureClass: f.failureClass,
      error: f.error,
    })),
  });
  for (const [name, a] of Object.entries(x.entry.attrs)) {
    if (!a.publish) continue;
    setTyped(ad, name, a.type, a.value);
  }
  return ad;
}

function setTyped(ad: ClassAd, name: string, type: string, value: string | number | boolean): void {
  switch (type) {
    case "int":
      ad.setValue(name, Math.trunc(Number(value)));
      return;
    case "real":
      ad.setValue(name, Number(value));
      return;
    case "bool":
      ad.setValue(name, value === true || value === "true" || value === "True");
      return;
    case "expr":
      ad.set(name, String(value));
      return;
    default:
      ad.setValue(name, String(value));
  }
}

export interface ClientAdInput {
  factory: string;
  entry: string;
  client: string;
  frontend: string;
  counts: ClientCounts;
  reqIdle: number;
  reqMax: number;
  limitsHit: readonly SubmitBound[];
  failed: number;
  finished: number;
  failedByClass?: string;
  lastFailure?: string;
  lifetimeS: number;
}

/** The client's ad in its wire form, as the factory sends it (see glideFactoryClientWire). */
export function buildGlideFactoryClientAd(x: ClientAdInput): Record<string, string> {
  return glideFactoryClientWire({
    name: `${entryAdName(x.entry, x.factory)}@${x.client}`,
    reqGlidein: entryAdName(x.entry, x.factory),
    reqClientName: x.client,
    reqFrontendName: x.frontend,
    entryName: x.entry,
    factoryName: x.factory,
    idle: x.counts.idle,
    running: x.counts.running,
    held: x.counts.held,
    requestedIdle: x.reqIdle,
    requestedMaxGlideins: x.reqMax,
    limitsHit: x.limitsHit.join(","),
    failedPilots: x.failed,
    finishedPilots: x.finished,
    failedByClass: x.failedByClass ?? "",
    lastFailure: x.lastFailure ?? "",
    lifetimeS: x.lifetimeS,
  });
}
