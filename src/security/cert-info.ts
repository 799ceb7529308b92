/**
 * What verification and the tools need to know about one certificate, read from its DER:
 * names (exact bytes and slash form), validity, serial, and the extensions that decide its role
 * (basic constraints, key usage, extended key usage, RFC 3820 ProxyCertInfo).
 */
import { X509Certificate } from "node:crypto";
import {
  Tag,
  children,
  content,
  decodeOid,
  decodeTime,
  expectTlv,
  integerHex,
  integerValue,
  raw,
  type Tlv,
} from "./der.js";
import { formatSlashDn } from "./dn.js";
import { UpdraftError } from "../common/errors.js";

export const OID = {
  basicConstraints: "2.5.29.19",
  keyUsage: "2.5.29.15",
  extKeyUsage: "2.5.29.37",
  subjectAltName: "2.5.29.17",
  subjectKeyId: "2.5.29.14",
  authorityKeyId: "2.5.29.35",
  crlNumber: "2.5.29.20",
  proxyCertInfo: "1.3.6.1.5.5.7.1.14",
  /** The pre-RFC (GT3 draft) ProxyCertInfo: such proxies count as legacy. */
  proxyCertInfoDraft: "1.3.6.1.4.1.3536.1.222",
  policyInheritAll: "1.3.6.1.5.5.7.21.1",
  policyIndependent: "1.3.6.1.5.5.7.21.2",
  policyLimited: "1.3.6.1.4.1.3536.1.1.1.9",
  /**
   * Updraft's pilot-binding policy language (a UUID OID, X.667): the proxy inherits all rights of
   * its issuer, for the pilot the JSON binding in its policy names (see pilot-binding.ts). A
   * verifier that does not know the language refuses the proxy, as RFC 3820 asks: fail-closed.
   */
  policyPilotBinding: "2.25.293698980785318070788767942981099074408",
  ekuServerAuth: "1.3.6.1.5.5.7.3.1",
  ekuClientAuth: "1.3.6.1.5.5.7.3.2",
  ekuAny: "2.5.29.37.0",
  sha256WithRsa: "1.2.840.113549.1.1.11",
} as const;

/** Critical extensions this code understands (RFC 5280: refuse a critical one we do not). */
export const UNDERSTOOD_CRITICAL = new Set<string>([
  OID.basicConstraints,
  OID.keyUsage,
  OID.extKeyUsage,
  OID.subjectAltName,
  OID.proxyCertInfo,
  OID.proxyCertInfoDraft,
  "2.5.29.32", // certificatePolicies
  "2.5.29.36", // policyConstraints
  "2.5.29.54", // inhibitAnyPolicy
]);

export const KeyUsageBit = {
  digitalSignature: 0,
  nonRepudiation: 1,
  keyEncipherment: 2,
  dataEncipherment: 3,
  keyAgreement: 4,
  keyCertSign: 5,
  cRLSign: 6,
} as const;

export interface Extension {
  oid: string;
  critical: boolean;
  value: Buffer;
}

export interface ProxyCertInfo {
  critical: boolean;
  pathLen: number | undefined;
  policyLanguage: string;
  /** The policy's bytes, when the ProxyPolicy carries one. */
  policy?: Buffer;
}

export interface CertInfo {
  der: Buffer;
  x509: X509Certificate;
  serialHex: string;
  issuerDer: Buffer;
  subjectDer: Buffer;
  issuer: string;
  subject: string;
  notBefore: Date;
  notAfter: Date;
  extensions: Extension[];
  /** undefined when the extension is absent. */
  basicConstraints: { ca: boolean; pathLen: number | undefined } | undefined;
  /** Set of KeyUsageBit values; undefined when the extension is absent (no restriction). */
  keyUsage: Set<number> | undefined;
  extKeyUsage: string[] | undefined;
  proxyCertInfo: ProxyCertInfo | undefined;
  hasDraftProxyCertInfo: boolean;
  keyBits: number | undefined;
  /** The OID of the algorithm the issuer signed this certificate with. */
  signatureAlgorithm: string;
}

export class CertParseError extends UpdraftError {
  readonly code = "cert-invalid";
  override name = "CertParseError";
}

/** Parse one DER certificate; throws CertParseError with what is wrong. */
export function parseCertificate(der: Buffer): CertInfo {
  try {
    return parse(der);
  } catch (err) {
    if (err instanceof CertParseError) throw err;
    throw new CertParseError(`not a valid X.509 certificate: ${(err as Error).message}`);
  }
}

function parse(der: Buffer): CertInfo {
  const outer = expectTlv(der, Tag.SEQUENCE, "Certificate");
  const [tbs, sigAlg] = children(der, outer);
  if (!sigAlg) throw new CertParseError("no signature algorithm");
  const signatureAlgorithm = decodeOid(content(der, children(der, sigAlg)[0]));
  const fields = children(der, tbs);
  let i = 0;
  if (fields[0]?.tag === 0xa0) i++; // explicit version
  const serial = fields[i++];
  i++; // signature algorithm
  const issuer = fields[i++];
  const validity = fields[i++];
  const subject = fields[i++];
  i++; // subjectPublicKeyInfo
  const extField = fields.slice(i).find((f) => f.tag === 0xa3);
  if (!serial || !issuer || !validity || !subject) throw new CertParseError("truncated TBS");
  const [nb, na] = children(der, validity);
  const extensions = extField ? readExtensions(der, extField) : [];
  const issuerDer = Buffer.from(raw(der, issuer));
  const subjectDer = Buffer.from(raw(der, subject));
  const x509 = new X509Certificate(der);
  const byOid = (oid: string) => extensions.find((e) => e.oid === oid);
  const bc = byOid(OID.basicConstraints);
  const ku = byOid(OID.keyUsage);
  const eku = byOid(OID.extKeyUsage);
  const pci = byOid(OID.proxyCertInfo);
  return {
    der,
    x509,
    serialHex: integerHex(content(der, serial)),
    issuerDer,
    subjectDer,
    issuer: formatSlashDn(issuerDer),
    subject: formatSlashDn(subjectDer),
    notBefore: decodeTime(der, nb),
    notAfter: decodeTime(der, na),
    extensions,
    basicConstraints: bc ? readBasicConstraints(bc.value) : undefined,
    keyUsage: ku ? readKeyUsage(ku.value) : undefined,
    extKeyUsage: eku ? readOidSequence(eku.value) : undefined,
    proxyCertInfo: pci ? readProxyCertInfo(pci) : undefined,
    hasDraftProxyCertInfo: byOid(OID.proxyCertInfoDraft) !== undefined,
    keyBits: x509.publicKey.asymmetricKeyDetails?.modulusLength,
    signatureAlgorithm,
  };
}

function readExtensions(der: Buffer, field: Tlv): Extension[] {
  const [seq] = children(der, field);
  const seen = new Set<string>();
  return children(der, seq).map((ext) => {
    const parts = children(der, ext);
    const oid = decodeOid(content(der, parts[0]));
    if (seen.has(oid)) throw new CertParseError(`extension ${oid} appears twice`);
    seen.add(oid);
    const critical = parts.length === 3 && content(der, parts[1])[0] !== 0;
    const value = Buffer.from(content(der, parts[parts.length - 1]));
    return { oid, critical, value };
  });
}

function readBasicConstraints(v: Buffer): { ca: boolean; pathLen: number | undefined } {
  const seq = expectTlv(v, Tag.SEQUENCE, "basicConstraints");
  let ca = false;
  let pathLen: number | undefined;
  for (const f of children(v, seq)) {
    if (f.tag === Tag.BOOLEAN) ca = content(v, f)[0] !== 0;
    else if (f.tag === Tag.INTEGER) pathLen = integerValue(content(v, f));
  }
  return { ca, pathLen };
}

function readKeyUsage(v: Buffer): Set<number> {
  const bits = content(v, expectTlv(v, Tag.BIT_STRING, "keyUsage"));
  const out = new Set<number>();
  for (let byte = 1; byte < bits.length; byte++) {
    for (let b = 0; b < 8; b++) if (bits[byte] & (0x80 >> b)) out.add((byte - 1) * 8 + b);
  }
  return out;
}

function readOidSequence(v: Buffer): string[] {
  const seq = expectTlv(v, Tag.SEQUENCE, "extKeyUsage");
  return children(v, seq).map((o) => decodeOid(content(v, o)));
}

function readProxyCertInfo(ext: Extension): ProxyCertInfo {
  const v = ext.value;
  const seq = expectTlv(v, Tag.SEQUENCE, "ProxyCertInfo");
  let pathLen: number | undefined;
  let policyLanguage: string | undefined;
  let policy: Buffer | undefined;
  for (const f of children(v, seq)) {
    if (f.tag === Tag.INTEGER) pathLen = integerValue(content(v, f));
    else if (f.tag === Tag.SEQUENCE) {
      const [lang, body] = children(v, f);
      if (lang?.tag === Tag.OID) policyLanguage = decodeOid(content(v, lang));
      if (body?.tag === Tag.OCTET_STRING) policy = Buffer.from(content(v, body));
    }
  }
  if (!policyLanguage) throw new CertParseError("ProxyCertInfo without a policy language");
  return { critical: ext.critical, pathLen, policyLanguage, ...(policy ? { policy } : {}) };
}

/**
 * The most certificates of one chain that are looked at. Real grid chains are a CA or two, a user
 * and a few proxies; path building is quadratic. Here rather than in verify.ts so that a pilot,
 * which bounds the renewed proxy chains it reads by it, does not load the trust store and its
 * CRL reader (node-forge) for one number.
 */
export const MAX_CHAIN = 16;

/** DER certificates from PEM text, in order (other blocks are ignored). */
export function pemCertificates(pem: string): Buffer[] {
  const out: Buffer[] = [];
  const re = /-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/g;
  for (let m = re.exec(pem); m; m = re.exec(pem)) out.push(Buffer.from(m[1], "base64"));
  return out;
}

export function derToPem(der: Buffer, label = "CERTIFICATE"): string {
  const b64 = der.toString("base64").replace(/(.{64})/g, "$1\n");
  return `-----BEGIN ${label}-----\n${b64}${b64.endsWith("\n") ? "" : "\n"}-----END ${label}-----\n`;
}

/** True when the certificate's subject equals its issuer (self-issued). */
export function isSelfIssued(c: CertInfo): boolean {
  return c.subjectDer.equals(c.issuerDer);
}

/**
 * When a chain (DER, any order) stops being valid: its first certificate to expire, as a proxy
 * expires before its issuer. Undefined for an empty chain; a certificate that does not parse
 * throws `CertParseError`.
 */
export function chainNotAfter(chain: readonly Buffer[]): Date | undefined {
  let earliest: Date | undefined;
  for (const der of chain) {
    const { notAfter } = parseCertificate(der);
    if (!earliest || notAfter < earliest) earliest = notAfter;
  }
  return earliest;
}
