/**
 * RFC 3820 proxy certificates, made the way grid-proxy-init -rfc makes them, and the single-file
 * credential layout: the proxy certificate, its unencrypted key, then the chain that issued it.
 */
import { createPublicKey, randomBytes, type KeyObject } from "node:crypto";
import { buildCertificate, keyUsageExt, proxyCertInfoExt } from "./cert-builder.js";
import {
  KeyUsageBit,
  OID,
  derToPem,
  parseCertificate,
  pemCertificates,
  type CertInfo,
} from "./cert-info.js";
import { appendCn } from "./dn-encode.js";
import {
  DEFAULT_BITS,
  generateEcKey,
  generateRsaKey,
  loadPrivateKey,
  spkiOf,
  type KeyPair,
} from "./keys.js";
import { UpdraftError } from "../common/errors.js";
import { pilotBindingClaim, type PilotBinding } from "./pilot-binding.js";

const BACKDATE_MS = 5 * 60_000;

export interface ProxyOptions {
  /** PEM, leaf first: a user certificate, or a proxy chain to delegate further. */
  certChainPem: string;
  /** The private key of the chain's first certificate. */
  keyPem: string;
  hours?: number;
  limited?: boolean;
  bits?: number;
  /** RFC 3820 pCPathLenConstraint for the new proxy (absent: unlimited). */
  pathLen?: number;
  /**
   * A per-pilot proxy: the binding travels in the proxy's policy (language
   * `OID.policyPilotBinding`), and servers take it as they take a pilot token's.
   */
  binding?: PilotBinding;
  now?: Date;
}

export class ProxyError extends UpdraftError {
  readonly code = "proxy-invalid";
  override name = "ProxyError";
}

/** Make a proxy of the chain's first certificate; returns the single-file credential PEM. */
export function createProxy(opts: ProxyOptions): string {
  const issuer = proxyIssuer(opts.certChainPem, opts.keyPem, opts.now);
  return signProxy(issuer, opts, generateRsaKey(opts.bits ?? DEFAULT_BITS));
}

/**
 * One proxy per binding, each with its own P-256 key made off the event loop (see generateEcKey),
 * all signed by the chain's first certificate: the frontend's per-pilot proxies. Each is the
 * single-file credential PEM.
 */
export async function createPilotProxies(
  opts: Omit<ProxyOptions, "binding" | "limited" | "bits"> & { bindings: readonly PilotBinding[] },
): Promise<string[]> {
  const issuer = proxyIssuer(opts.certChainPem, opts.keyPem, opts.now);
  const out: string[] = [];
  for (const binding of opts.bindings) {
    out.push(signProxy(issuer, { ...opts, binding }, await generateEcKey(), true));
  }
  return out;
}

/**
 * A proxy certificate for a key another party holds (a running pilot's renewal key, SPKI DER),
 * signed by the chain's first certificate: the new certificate then the chain above it, PEM, no
 * private key. The frontend renews a per-pilot proxy so, with the same binding, and no key travels.
 */
export function certifyProxyKey(
  opts: Omit<ProxyOptions, "limited" | "bits"> & { spkiDer: Buffer },
): string {
  const issuer = proxyIssuer(opts.certChainPem, opts.keyPem, opts.now);
  let ec: boolean;
  try {
    ec =
      createPublicKey({ key: opts.spkiDer, format: "der", type: "spki" }).asymmetricKeyType ===
      "ec";
  } catch {
    throw new ProxyError("the key to certify is not a public key (SPKI DER)");
  }
  return signProxy(issuer, opts, { spkiDer: opts.spkiDer }, ec);
}

interface ProxyIssuer {
  chain: Buffer[];
  cert: CertInfo;
  key: KeyObject;
}

/** The chain and key a proxy is signed with, checked: they match, no CA, not expired, RSA. */
function proxyIssuer(certChainPem: string, keyPem: string, now = new Date()): ProxyIssuer {
  const chain = pemCertificates(certChainPem);
  if (chain.length === 0) throw new ProxyError("no certificate found in the certificate input");
  const cert = parseCertificate(chain[0]);
  const key = loadPrivateKey(keyPem);
  const certSpki = cert.x509.publicKey.export({ type: "spki", format: "der" });
  if (!spkiOf(key).equals(certSpki)) {
    throw new ProxyError(`the private key does not match the certificate ${cert.subject}`);
  }
  if (cert.basicConstraints?.ca) {
    throw new ProxyError(
      `${cert.subject} is a CA certificate; proxies are made from user certificates`,
    );
  }
  if (cert.notAfter <= now) {
    throw new ProxyError(
      `the certificate ${cert.subject} expired at ${cert.notAfter.toISOString()}`,
    );
  }
  // Certificates are signed sha256WithRSAEncryption (cert-builder), so only an RSA key signs.
  if (key.asymmetricKeyType !== "rsa") {
    throw new ProxyError(
      `${cert.subject} has a ${key.asymmetricKeyType ?? "unknown"} key; proxies are signed with RSA keys`,
    );
  }
  return { chain, cert, key };
}

function signProxy(
  { chain, cert: issuer, key: issuerKey }: ProxyIssuer,
  opts: Pick<ProxyOptions, "hours" | "limited" | "pathLen" | "binding" | "now">,
  newKey: Pick<KeyPair, "spkiDer"> & { privateKeyPem?: string },
  ecKey = false,
): string {
  const now = opts.now ?? new Date();
  const hours = opts.hours ?? 12;
  if (!(hours > 0)) throw new ProxyError(`proxy lifetime must be positive, got ${hours} hours`);
  // Rights never widen down a chain: a proxy of a limited proxy is limited, and one of a bound
  // proxy carries its binding (verifiers refuse a chain that drops or changes it).
  const limited =
    opts.limited === true || issuer.proxyCertInfo?.policyLanguage === OID.policyLimited;
  const inherited =
    issuer.proxyCertInfo?.policyLanguage === OID.policyPilotBinding
      ? issuer.proxyCertInfo.policy
      : undefined;
  const asked = opts.binding
    ? Buffer.from(JSON.stringify(pilotBindingClaim(opts.binding)), "utf8")
    : undefined;
  if (asked && inherited && !asked.equals(inherited)) {
    throw new ProxyError(`${issuer.subject} already carries another pilot binding`);
  }
  const bindingPolicy = inherited ?? asked;
  if (bindingPolicy && limited) {
    throw new ProxyError("a proxy with a pilot binding cannot be limited");
  }
  const policy = bindingPolicy
    ? { policyLanguage: OID.policyPilotBinding, policy: bindingPolicy }
    : { policyLanguage: limited ? OID.policyLimited : OID.policyInheritAll };
  const serial = randomBytes(4);
  serial[0] &= 0x7f;
  const serialNumber = serial.readUInt32BE(0) || 1;
  const wanted = new Date(now.getTime() + hours * 3_600_000);
  // An EC key signs (ECDSA) and never enciphers, so it gets digitalSignature alone.
  const usage = ecKey
    ? [KeyUsageBit.digitalSignature]
    : [KeyUsageBit.digitalSignature, KeyUsageBit.keyEncipherment];
  const der = buildCertificate(
    {
      serial: Buffer.from(serialNumber.toString(16).padStart(8, "0"), "hex"),
      issuerDer: issuer.subjectDer,
      subjectDer: appendCn(issuer.subjectDer, String(serialNumber)),
      notBefore: new Date(now.getTime() - BACKDATE_MS),
      notAfter: wanted < issuer.notAfter ? wanted : issuer.notAfter,
      spkiDer: newKey.spkiDer,
      extensions: [proxyCertInfoExt({ ...policy, pathLen: opts.pathLen }), keyUsageExt(usage)],
    },
    issuerKey,
  );
  // The single-file layout: the certificate, its key when there is one here, then the chain.
  const key = newKey.privateKeyPem === undefined ? [] : [newKey.privateKeyPem];
  return [derToPem(der), ...key, ...chain.map((c) => derToPem(c))]
    .map((s) => (s.endsWith("\n") ? s : s + "\n"))
    .join("");
}
