/**
 * A running pilot's per-pilot proxy, renewed before it expires through the mechanism
 * credential-renewal.ts describes. The frontend signs a fresh RFC 3820 proxy certificate for the
 * pilot's advertised public key, from the proxy it signed the first one with, and writes the
 * certificate chain (no key: none travels) in its PilotCredential ad. The pilot pairs it with its
 * own private key.
 *
 * A renewed proxy replaces the one held only if it is for the pilot's key, carries the same
 * policy (the same binding, so the same pilot id and `renew_until`), chains through proxies each
 * signed by the certificate above it to the same end-entity certificate (so the same identity and
 * the same CA), and ends later. Chain verification against the trust store stays the collector's
 * and schedds', as for the first proxy.
 */
import { X509Certificate } from "node:crypto";
import { PILOT_CREDENTIAL } from "../ads/index.js";
import { hasErrorCode } from "../common/errors.js";
import {
  MAX_CHAIN,
  OID,
  derToPem,
  parseCertificate,
  pemCertificates,
  type CertInfo,
} from "../security/cert-info.js";
import { readCredentialFile } from "../security/credential-file.js";
import { isPilotBinding, parsePilotBinding } from "../security/pilot-binding.js";
import {
  createCredentialRenewer,
  type CredentialRenewer,
  type HeldCredential,
  type RenewalKey,
  type RenewalKind,
  type RenewerOptions,
} from "./credential-renewal.js";

/** Longest certificate chain read from a PilotCredential ad (a few certificates of 1-2 kB). */
const MAX_CHAIN_CHARS = 64 * 1024;

export interface ProxyFacts extends HeldCredential {
  /** The first certificate's policy (the binding's JSON), as signed. */
  policy: Buffer;
  /** The end-entity certificate the chain ends at (DER). */
  endEntity: Buffer;
}

/**
 * What a per-pilot proxy chain (leaf first) states, unverified; undefined unless its first
 * certificate is a proxy whose binding names a pilot id and a `renew_until`. `takenAtS`: when the
 * pilot took it, the start of its life as the pilot counts it (a proxy's notBefore is backdated).
 */
export function proxyFacts(chainPem: string, takenAtS: number): ProxyFacts | undefined {
  let certs: CertInfo[];
  try {
    const ders = pemCertificates(chainPem);
    if (ders.length === 0 || ders.length > MAX_CHAIN) return undefined;
    certs = ders.map((d) => parseCertificate(d));
  } catch (err) {
    if (hasErrorCode(err, "cert-invalid")) return undefined;
    throw err;
  }
  const leaf = certs[0]!;
  const pci = leaf.proxyCertInfo;
  if (pci?.policyLanguage !== OID.policyPilotBinding || pci.policy === undefined) return undefined;
  let claim: unknown;
  try {
    claim = JSON.parse(pci.policy.toString("utf8"));
  } catch {
    return undefined;
  }
  const b = parsePilotBinding(claim);
  if (!isPilotBinding(b) || b.pilotId === undefined || b.renewUntil === undefined) {
    return undefined;
  }
  const endEntity = certs.find((c) => c.proxyCertInfo === undefined);
  if (endEntity === undefined) return undefined;
  const exp = Math.floor(Math.min(...certs.map((c) => c.notAfter.getTime())) / 1000);
  return {
    name: `pilot-${b.pilotId}`,
    start: Math.min(exp - 1, Math.max(Math.floor(leaf.notBefore.getTime() / 1000), takenAtS)),
    exp,
    renewUntil: b.renewUntil,
    policy: pci.policy,
    endEntity: endEntity.der,
  };
}

/**
 * Whether the chain `next` (certificates only, leaf first) may replace the proxy `held` for the
 * pilot whose public key is `spkiDer`: why not, or its facts.
 */
export function acceptProxyRenewal(
  held: ProxyFacts,
  next: string,
  spkiDer: Buffer,
  nowS: number,
): ProxyFacts | { refused: string } {
  const n = proxyFacts(next, nowS);
  if (!n) return { refused: "not a per-pilot proxy chain" };
  if (!n.policy.equals(held.policy)) return { refused: "another binding" };
  if (!n.endEntity.equals(held.endEntity)) return { refused: "another end-entity certificate" };
  const ders = pemCertificates(next);
  const leaf = new X509Certificate(ders[0]!);
  const leafSpki = leaf.publicKey.export({ type: "spki", format: "der" });
  if (!leafSpki.equals(spkiDer)) return { refused: "not for this pilot's key" };
  // Each proxy signed by the certificate above it, down from the end-entity certificate: the
  // frontend's proxy signed the renewal, and nothing else sits in between.
  for (let i = 0; i < ders.length - 1; i++) {
    const cert = new X509Certificate(ders[i]!);
    if (ders[i]!.equals(n.endEntity)) break;
    const above = new X509Certificate(ders[i + 1]!);
    if (!cert.checkIssued(above) || !cert.verify(above.publicKey)) {
      return { refused: "not a chain to the held proxy's end-entity certificate" };
    }
  }
  if (n.exp <= held.exp) return { refused: "no later than the proxy held" };
  if (n.exp <= nowS) return { refused: "expired" };
  if (Date.parse(leaf.validFrom) / 1000 > nowS + 60) return { refused: "issued in the future" };
  return n;
}

const proxyKind: RenewalKind<ProxyFacts> = {
  what: "proxy",
  open(ad) {
    const text = ad[PILOT_CREDENTIAL.ProxyChain];
    if (text === undefined || text.length > MAX_CHAIN_CHARS) return undefined;
    return JSON.parse(text) as string;
  },
  accept(held, next, key, nowS) {
    const r = acceptProxyRenewal(held, next, key.spkiDer, nowS);
    if ("refused" in r) return r;
    return { held: r, text: proxyFileText(next, key) };
  },
};

/** The proxy file's layout (certificate, key, then the chain above it) with the pilot's key. */
function proxyFileText(chainPem: string, key: RenewalKey): string {
  const [leaf, ...rest] = pemCertificates(chainPem).map((d) => derToPem(d));
  const keyPem = key.privateKey.export({ type: "pkcs8", format: "pem" }).toString();
  return [leaf!, keyPem, ...rest].map((s) => (s.endsWith("\n") ? s : `${s}\n`)).join("");
}

/**
 * A renewer for a per-pilot proxy whose binding carries `renew_until` (the text of a proxy file:
 * certificate, key and chain); undefined for any other credential.
 */
export function createProxyRenewer(
  proxyFile: string,
  opts: RenewerOptions,
  nowMs = Date.now(),
): CredentialRenewer | undefined {
  const { chainPem } = readCredentialFile(proxyFile);
  const facts = proxyFacts(chainPem.join(""), Math.floor(nowMs / 1000));
  return facts && createCredentialRenewer(proxyKind, facts, proxyFile, opts);
}
