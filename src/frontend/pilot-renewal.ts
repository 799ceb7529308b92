/**
 * Renewal of running pilots' tokens. A pilot advertises an RSA public key in its Slot ad and the
 * expiry of the token it holds; the collector stamps the ad with the token's verified binding
 * (`UpdraftPilotBinding`). Each cycle the frontend picks its own pilots whose token ends within a
 * third of `lifetime_s` and whose binding's `renew_until` allows more, signs a token with the same
 * `sub` and binding, seals it to the pilot's key and advertises it as a `PilotCredential` ad named
 * after the `sub`. Anyone with `read` can fetch that ad; only the pilot can open it.
 *
 * What bounds a stolen token: its thief can advertise its own key under the pilot's identity and
 * be renewed, but never past `renew_until` (the first token's life plus the walltime), never with
 * another binding; and a renewed token keeps the pilot id, so revoking the pilot refuses it too.
 */
import { createPublicKey, type KeyObject } from "node:crypto";
import { AD_TYPE, COMMON, PILOT_CREDENTIAL, SLOT } from "../ads/index.js";
import { ClassAd, tryParse } from "../classad/index.js";
import type { CollectorClient } from "../collector/client.js";
import type { Logger } from "../common/logger.js";
import { isPilotBinding, parsePilotBinding, type PilotBinding } from "../security/pilot-binding.js";
import type { PilotTokenMinter } from "./pilot-tokens.js";
import type { CredentialSealer } from "./credential-seal.js";

/** Longest renewal key accepted, base64 characters (an RSA-4096 SPKI is about 730). */
export const MAX_RENEWAL_KEY_CHARS = 1024;
/** Longest binding text read back from a Slot ad. */
const MAX_BINDING_TEXT = 8192;

export interface RenewalDue {
  /** The token's `sub`, `pilot-<id>`: also the name of its PilotCredential ad. */
  sub: string;
  binding: PilotBinding & { pilotId: string; renewUntil: number };
  /** The pilot's renewal key, as a PEM public key. */
  keyPem: string;
}

export interface RenewalContext {
  /** This frontend's pilot-token issuer. */
  issuer: string;
  /** This frontend's name: a pilot bound to another frontend is not renewed here. */
  frontend: string;
  lifetimeS: number;
  nowS: number;
  /** `exp` of the token last renewed per `sub`: renewed once, not every cycle until seen. */
  renewed: ReadonlyMap<string, number>;
}

/**
 * The pilots to renew now, from the Slot ads this frontend's pilots wrote. Pure. Anything
 * malformed, foreign or not yet due is left out; each `sub` appears once.
 */
export function renewalsDue(slotAds: readonly ClassAd[], ctx: RenewalContext): RenewalDue[] {
  const out = new Map<string, RenewalDue>();
  for (const ad of slotAds) {
    const writer = ad.getString(COMMON.AuthenticatedIdentity);
    if (writer === undefined || !writer.startsWith(`${ctx.issuer}#`)) continue;
    const sub = writer.slice(ctx.issuer.length + 1);
    if (out.has(sub)) continue;
    const binding = stampedBinding(ad);
    if (binding === undefined || binding.frontend !== ctx.frontend) continue;
    if (`pilot-${binding.pilotId}` !== sub) continue;
    const held = Math.max(ad.getInteger(SLOT.CredentialExpiry) ?? 0, ctx.renewed.get(sub) ?? 0);
    if (held >= binding.renewUntil) continue; // it already holds its last token
    if (ctx.nowS >= binding.renewUntil) continue; // too late: nothing is left to give
    if (held - ctx.nowS > ctx.lifetimeS / 3) continue; // not due yet
    const keyPem = renewalKeyPem(ad.getString(SLOT.RenewalKey));
    if (keyPem === undefined) continue;
    out.set(sub, { sub, binding, keyPem });
  }
  return [...out.values()];
}

function stampedBinding(ad: ClassAd) {
  const text = ad.getString(SLOT.PilotBinding);
  if (text === undefined || text.length > MAX_BINDING_TEXT) return undefined;
  let claim: unknown;
  try {
    claim = JSON.parse(text);
  } catch {
    return undefined;
  }
  const b = parsePilotBinding(claim);
  if (!isPilotBinding(b) || b.pilotId === undefined || b.renewUntil === undefined) {
    return undefined;
  }
  return b as PilotBinding & { pilotId: string; renewUntil: number };
}

/** A pilot's advertised key as PEM, when it is an RSA key of at least 2048 bits. */
export function renewalKeyPem(b64: string | undefined): string | undefined {
  if (b64 === undefined || b64.length > MAX_RENEWAL_KEY_CHARS || !/^[A-Za-z0-9+/=]+$/.test(b64)) {
    return undefined;
  }
  let key: KeyObject;
  try {
    key = createPublicKey({ key: Buffer.from(b64, "base64"), format: "der", type: "spki" });
  } catch {
    return undefined;
  }
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  if (key.asymmetricKeyType !== "rsa" || bits < 2048) return undefined;
  return key.export({ type: "spki", format: "pem" }).toString();
}

export interface RenewalStep {
  minter: PilotTokenMinter;
  sealer: CredentialSealer;
  collector: CollectorClient;
  timeoutMs: number;
  log: Logger;
  /** The schedds a group's pilots pull from now (found this cycle), sent with each renewal. */
  scheddsFor?: (group: string) => readonly string[];
}

/** Sign, seal and advertise each due renewal; returns the `exp` given per `sub`. */
export async function renewPilotTokens(
  due: readonly RenewalDue[],
  step: RenewalStep,
  nowMs: number,
): Promise<Map<string, number>> {
  const given = new Map<string, number>();
  const ads: Record<string, string>[] = [];
  for (const d of due) {
    const r = await step.minter.renew(d.binding, nowMs);
    const ad = new ClassAd();
    ad.set(COMMON.MyType, JSON.stringify(AD_TYPE.PilotCredential));
    ad.set(COMMON.Name, JSON.stringify(d.sub));
    ad.set(PILOT_CREDENTIAL.SealedToken, JSON.stringify(step.sealer.seal(r.token, d.keyPem)));
    ad.set(PILOT_CREDENTIAL.NotAfter, String(r.exp));
    // Gone from the collector when the token it holds is no use any more.
    ad.set(COMMON.ClassAdLifetime, String(Math.max(60, r.exp - Math.floor(nowMs / 1000))));
    const schedds = step.scheddsFor?.(d.binding.group) ?? [];
    if (schedds.length > 0) ad.set(PILOT_CREDENTIAL.Schedds, JSON.stringify(schedds.join(",")));
    ads.push(ad.toJSON());
    given.set(d.sub, r.exp);
  }
  if (ads.length === 0) return given;
  const outcomes = await step.collector.advertise(ads, AD_TYPE.PilotCredential, {
    deadlineMs: step.timeoutMs,
  });
  outcomes.forEach((o, i) => {
    if (o.ok) return;
    given.delete(due[i]!.sub);
    step.log.warn(
      { pilot: due[i]!.binding.pilotId, code: o.code, message: o.message },
      "renewed pilot token refused by the collector",
    );
  });
  if (given.size > 0) step.log.info({ pilots: given.size }, "pilot tokens renewed");
  return given;
}

/** Parse received Slot attributes, dropping any that do not parse. */
export function parseSlotAds(attrs: readonly Record<string, string>[]): ClassAd[] {
  const out: ClassAd[] = [];
  for (const a of attrs) {
    const r = tryParse(() => ClassAd.fromJSON(a));
    if (r.ok) out.push(r.value);
  }
  return out;
}
