/**
 * What `updraft proxy info` reports about a credential file, computed without IO: subject,
 * issuer, identity, type, key strength and time left, as grid-proxy-info and voms-proxy-info do.
 */
import {
  CertParseError,
  OID,
  parseCertificate,
  pemCertificates,
  type CertInfo,
} from "./cert-info.js";
import { lastCn } from "./dn.js";

export interface CredentialInfo {
  subject: string;
  issuer: string;
  identity: string;
  type: string;
  /** Key size of the first certificate, in bits. */
  strength: number | undefined;
  /** Seconds until the first certificate in the chain expires (0 when it has). */
  timeLeftSeconds: number;
  timeLeft: string;
  notBefore: string;
  notAfter: string;
  path: string;
  /** Every certificate in the file is within its validity period now. */
  valid: boolean;
}

const isProxy = (c: CertInfo) =>
  c.proxyCertInfo !== undefined ||
  c.hasDraftProxyCertInfo ||
  ["proxy", "limited proxy"].includes(lastCn(c.subjectDer) ?? "");

export function proxyType(c: CertInfo): string {
  const pci = c.proxyCertInfo;
  if (pci) {
    if (pci.policyLanguage === OID.policyLimited) return "RFC 3820 compliant limited proxy";
    if (pci.policyLanguage === OID.policyIndependent) return "RFC 3820 compliant independent proxy";
    if (pci.policyLanguage === OID.policyInheritAll)
      return "RFC 3820 compliant impersonation proxy";
    return "RFC 3820 compliant restricted proxy";
  }
  if (c.hasDraftProxyCertInfo) return "Proxy draft (pre-RFC) compliant proxy";
  const cn = lastCn(c.subjectDer);
  if (cn === "limited proxy") return "full legacy globus limited proxy";
  if (cn === "proxy") return "full legacy globus proxy";
  return "end entity certificate";
}

/** h:mm:ss, hours unbounded. */
export function formatTimeLeft(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return `${h}:${String(m).padStart(2, "0")}:${String(s % 60).padStart(2, "0")}`;
}

export function describeCredential(pem: string, path: string, now = new Date()): CredentialInfo {
  const certs = pemCertificates(pem).map((d) => parseCertificate(d));
  if (certs.length === 0) throw new CertParseError(`${path}: no certificate found`);
  const leaf = certs[0];
  const ee = certs.find((c) => !isProxy(c)) ?? leaf;
  const left = Math.max(0, (leaf.notAfter.getTime() - now.getTime()) / 1000);
  return {
    subject: leaf.subject,
    issuer: leaf.issuer,
    identity: ee.subject,
    type: proxyType(leaf),
    strength: leaf.keyBits,
    timeLeftSeconds: Math.floor(left),
    timeLeft: formatTimeLeft(left),
    notBefore: leaf.notBefore.toISOString(),
    notAfter: leaf.notAfter.toISOString(),
    path,
    valid: certs.every((c) => c.notBefore <= now && now <= c.notAfter),
  };
}
