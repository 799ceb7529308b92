/**
 * Renewal of running pilots' tokens and per-pilot proxies. A pilot advertises an RSA public key in
 * its Slot ad and the expiry of the credential it holds; the collector stamps the ad with the
 * credential's verified binding (`UpdraftPilotBinding`). Each cycle the frontend picks its own
 * pilots whose credential ends within a third of its `lifetime_s` and whose binding's
 * `renew_until` allows more, and advertises a `PilotCredential` ad named `pilot-<id>` holding a
 * renewed credential with the same binding: a token sealed to the pilot's key, or a proxy
 * certificate for that key signed from the frontend's pilot proxy (no key travels). Anyone with
 * `read` can fetch that ad; only the pilot holds the key that makes it of use.
 *
 * What bounds a stolen credential: its thief can advertise its own key under the pilot's identity
 * and be renewed, but never past `renew_until` (the first credential's life plus the walltime),
 * never with another binding; and a renewal keeps the pilot id, so revoking the pilot refuses it.
 */
import { createPublicKey, type KeyObject } from "node:crypto";
import { AD_TYPE, COMMON, PILOT_CREDENTIAL, SLOT } from "../ads/index.js";
import { ClassAd, tryParse } from "../classad/index.js";
import type { CollectorClient } from "../collector/client.js";
import type { Logger } from "../common/logger.js";
import { chainNotAfter, pemCertificates } from "../security/cert-info.js";
import { readCredentialFile } from "../security/credential-file.js";
import { isPilotBinding, parsePilotBinding, type PilotBinding } from "../security/pilot-binding.js";
import { certifyProxyKey } from "../security/proxy.js";
import { PilotProxyError } from "./pilot-proxies.js";
import { RenewalEndedError, type PilotTokenMinter } from "./pilot-tokens.js";
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
  /**
   * Who signs this kind of pilot credential, as the pilots' identities begin: the pilot-token
   * issuer (`<iss>#pilot-<id>`) or the pilot proxy's subject (`<subject>#pilot-<id>`).
   */
  signer: string;
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
    if (writer === undefined || !writer.startsWith(`${ctx.signer}#`)) continue;
    const sub = writer.slice(ctx.signer.length + 1);
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

/** A renewed credential: the PilotCredential attributes that carry it, and when it ends. */
export interface RenewedCredential {
  attrs: Record<string, string>;
  /** Seconds since the epoch. */
  exp: number;
}

export type RenewalSigner = (d: RenewalDue, nowMs: number) => Promise<RenewedCredential>;

export interface RenewalStep {
  sign: RenewalSigner;
  collector: CollectorClient;
  timeoutMs: number;
  log: Logger;
  /** The schedds a group's pilots pull from now (found this cycle), sent with each renewal. */
  scheddsFor?: (group: string) => readonly string[];
}

/** A token with the same `sub` and binding, sealed to the pilot's key. */
export function tokenSigner(minter: PilotTokenMinter, sealer: CredentialSealer): RenewalSigner {
  return async (d, nowMs) => {
    const r = await minter.renew(d.binding, nowMs);
    const sealed = JSON.stringify(sealer.seal(r.token, d.keyPem));
    return { attrs: { [PILOT_CREDENTIAL.SealedToken]: sealed }, exp: r.exp };
  };
}

/**
 * A proxy certificate for the pilot's key with the same binding, signed from `issuerPem` (the
 * frontend's pilot proxy: certificate, key, chain), for `lifetimeS` at most and never past
 * `renew_until` or the signing proxy's end.
 */
export function proxySigner(issuerPem: string, lifetimeS: number): RenewalSigner {
  const issuer = readCredentialFile(issuerPem);
  return async (d, nowMs) => {
    if (issuer.keyPem === undefined || issuer.chainPem.length === 0) {
      throw new PilotProxyError("the pilot proxy file holds no certificate and key to sign with");
    }
    const nowS = Math.floor(nowMs / 1000);
    const s = Math.min(lifetimeS, d.binding.renewUntil - nowS);
    if (s <= 0)
      throw new RenewalEndedError(`pilot ${d.binding.pilotId} may not be renewed any more`);
    const spkiDer = createPublicKey(d.keyPem).export({ type: "spki", format: "der" });
    const chain = certifyProxyKey({
      certChainPem: issuer.chainPem.join(""),
      keyPem: issuer.keyPem,
      hours: s / 3600,
      binding: d.binding,
      spkiDer,
      now: new Date(nowMs),
    });
    const exp = Math.floor(chainNotAfter(pemCertificates(chain))!.getTime() / 1000);
    return { attrs: { [PILOT_CREDENTIAL.ProxyChain]: JSON.stringify(chain) }, exp };
  };
}

/** Sign, seal and advertise each due renewal; returns the `exp` given per `sub`. */
export async function renewPilotCredentials(
  due: readonly RenewalDue[],
  step: RenewalStep,
  nowMs: number,
): Promise<Map<string, number>> {
  const given = new Map<string, number>();
  const ads: Record<string, string>[] = [];
  const sent: RenewalDue[] = [];
  for (const d of due) {
    let r: RenewedCredential;
    try {
      r = await step.sign(d, nowMs);
    } catch (err) {
      step.log.warn(
        { pilot: d.binding.pilotId, reason: (err as Error).message },
        "cannot renew a pilot's credential",
      );
      continue;
    }
    const ad = new ClassAd();
    ad.set(COMMON.MyType, JSON.stringify(AD_TYPE.PilotCredential));
    ad.set(COMMON.Name, JSON.stringify(d.sub));
    for (const [name, text] of Object.entries(r.attrs)) ad.set(name, text);
    ad.set(PILOT_CREDENTIAL.NotAfter, String(r.exp));
    // Gone from the collector when the credential it holds is no use any more.
    ad.set(COMMON.ClassAdLifetime, String(Math.max(60, r.exp - Math.floor(nowMs / 1000))));
    const schedds = step.scheddsFor?.(d.binding.group) ?? [];
    if (schedds.length > 0) ad.set(PILOT_CREDENTIAL.Schedds, JSON.stringify(schedds.join(",")));
    ads.push(ad.toJSON());
    sent.push(d);
    given.set(d.sub, r.exp);
  }
  if (ads.length === 0) return given;
  const outcomes = await step.collector.advertise(ads, AD_TYPE.PilotCredential, {
    deadlineMs: step.timeoutMs,
  });
  outcomes.forEach((o, i) => {
    if (o.ok) return;
    given.delete(sent[i]!.sub);
    step.log.warn(
      { pilot: sent[i]!.binding.pilotId, code: o.code, message: o.message },
      "renewed pilot credential refused by the collector",
    );
  });
  if (given.size > 0) step.log.info({ pilots: given.size }, "pilot credentials renewed");
  return given;
}

/** Tokens: `renewPilotCredentials` with a token signer. */
export function renewPilotTokens(
  due: readonly RenewalDue[],
  step: Omit<RenewalStep, "sign"> & { minter: PilotTokenMinter; sealer: CredentialSealer },
  nowMs: number,
): Promise<Map<string, number>> {
  return renewPilotCredentials(
    due,
    { ...step, sign: tokenSigner(step.minter, step.sealer) },
    nowMs,
  );
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
