/**
 * RFC 3820 proxy certificates, made the way grid-proxy-init -rfc makes them, and the single-file
 * credential layout: the proxy certificate, its unencrypted key, then the chain that issued it.
 */
import { randomBytes } from "node:crypto";
import { buildCertificate, keyUsageExt, proxyCertInfoExt } from "./cert-builder.js";
import { KeyUsageBit, OID, derToPem, parseCertificate, pemCertificates } from "./cert-info.js";
import { appendCn } from "./dn.js";
import { DEFAULT_BITS, generateRsaKey, loadPrivateKey, spkiOf } from "./keys.js";
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
  const chain = pemCertificates(opts.certChainPem);
  if (chain.length === 0) throw new ProxyError("no certificate found in the certificate input");
  const issuer = parseCertificate(chain[0]);
  const issuerKey = loadPrivateKey(opts.keyPem);
  const issuerSpki = issuer.x509.publicKey.export({ type: "spki", format: "der" });
  if (!spkiOf(issuerKey).equals(issuerSpki)) {
    throw new ProxyError(`the private key does not match the certificate ${issuer.subject}`);
  }
  if (issuer.basicConstraints?.ca) {
    throw new ProxyError(
      `${issuer.subject} is a CA certificate; proxies are made from user certificates`,
    );
  }
  const now = opts.now ?? new Date();
  if (issuer.notAfter <= now) {
    throw new ProxyError(
      `the certificate ${issuer.subject} expired at ${issuer.notAfter.toISOString()}`,
    );
  }
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
  const key = generateRsaKey(opts.bits ?? DEFAULT_BITS);
  const wanted = new Date(now.getTime() + hours * 3_600_000);
  const der = buildCertificate(
    {
      serial: Buffer.from(serialNumber.toString(16).padStart(8, "0"), "hex"),
      issuerDer: issuer.subjectDer,
      subjectDer: appendCn(issuer.subjectDer, String(serialNumber)),
      notBefore: new Date(now.getTime() - BACKDATE_MS),
      notAfter: wanted < issuer.notAfter ? wanted : issuer.notAfter,
      spkiDer: key.spkiDer,
      extensions: [
        proxyCertInfoExt({ ...policy, pathLen: opts.pathLen }),
        keyUsageExt([KeyUsageBit.digitalSignature, KeyUsageBit.keyEncipherment]),
      ],
    },
    issuerKey,
  );
  return [derToPem(der), key.privateKeyPem, ...chain.map((c) => derToPem(c))]
    .map((s) => (s.endsWith("\n") ? s : s + "\n"))
    .join("");
}
