/**
 * Assemble and sign X.509 v3 certificates. forge's ASN.1 builds the structure; the signature is
 * made with node:crypto because forge's JavaScript RSA is slow. Names are given as DER so a proxy
 * can carry its issuer's subject byte for byte.
 */
import { createHash, sign } from "node:crypto";
import type { KeyObject } from "node:crypto";
import forge from "node-forge";
import { isIP } from "node:net";
import { UpdraftError } from "../common/errors.js";
import { OID } from "./cert-info.js";
import { Tag, children, content, expectTlv } from "./der.js";

const asn1 = forge.asn1;
type Node = forge.asn1.Asn1;

export interface ExtensionSpec {
  oid: string;
  critical: boolean;
  value: Node;
}

export interface CertSpec {
  serial: Buffer;
  issuerDer: Buffer;
  subjectDer: Buffer;
  notBefore: Date;
  notAfter: Date;
  spkiDer: Buffer;
  extensions: ExtensionSpec[];
}

const bin = (b: Buffer) => b.toString("binary");
const fromDer = (b: Buffer): Node => asn1.fromDer(bin(b));
const U = asn1.Class.UNIVERSAL;
const T = asn1.Type;

export function toDerBuffer(node: Node): Buffer {
  return Buffer.from(asn1.toDer(node).getBytes(), "binary");
}

export function timeNode(d: Date): Node {
  // RFC 5280: UTCTime through 2049, GeneralizedTime from 2050.
  return d.getUTCFullYear() < 2050
    ? asn1.create(U, T.UTCTIME, false, asn1.dateToUtcTime(d))
    : asn1.create(U, T.GENERALIZEDTIME, false, asn1.dateToGeneralizedTime(d));
}

export function sha256WithRsaAlgorithm(): Node {
  return asn1.create(U, T.SEQUENCE, true, [
    asn1.create(U, T.OID, false, asn1.oidToDer(OID.sha256WithRsa).getBytes()),
    asn1.create(U, T.NULL, false, ""),
  ]);
}

export function extensionsNode(exts: ExtensionSpec[]): Node {
  return asn1.create(
    U,
    T.SEQUENCE,
    true,
    exts.map((e) =>
      asn1.create(U, T.SEQUENCE, true, [
        asn1.create(U, T.OID, false, asn1.oidToDer(e.oid).getBytes()),
        ...(e.critical ? [asn1.create(U, T.BOOLEAN, false, "\xff")] : []),
        asn1.create(U, T.OCTETSTRING, false, asn1.toDer(e.value).getBytes()),
      ]),
    ),
  );
}

/** Sign `tbs` with SHA-256/RSA and wrap it as `SEQUENCE { tbs, algorithm, BIT STRING sig }`. */
export function signStructure(tbs: Node, key: KeyObject): Buffer {
  const tbsDer = toDerBuffer(tbs);
  const sig = sign("sha256", tbsDer, key);
  return toDerBuffer(
    asn1.create(U, T.SEQUENCE, true, [
      tbs,
      sha256WithRsaAlgorithm(),
      asn1.create(U, T.BITSTRING, false, "\x00" + bin(sig)),
    ]),
  );
}

export function buildCertificate(spec: CertSpec, signer: KeyObject): Buffer {
  const fields: Node[] = [
    asn1.create(asn1.Class.CONTEXT_SPECIFIC, 0, true, [asn1.create(U, T.INTEGER, false, "\x02")]),
    asn1.create(U, T.INTEGER, false, bin(spec.serial)),
    sha256WithRsaAlgorithm(),
    fromDer(spec.issuerDer),
    asn1.create(U, T.SEQUENCE, true, [timeNode(spec.notBefore), timeNode(spec.notAfter)]),
    fromDer(spec.subjectDer),
    fromDer(spec.spkiDer),
  ];
  if (spec.extensions.length > 0) {
    fields.push(
      asn1.create(asn1.Class.CONTEXT_SPECIFIC, 3, true, [extensionsNode(spec.extensions)]),
    );
  }
  return signStructure(asn1.create(U, T.SEQUENCE, true, fields), signer);
}

// ---- extension values ----

export function basicConstraintsExt(ca: boolean, pathLen?: number): ExtensionSpec {
  const body: Node[] = [];
  if (ca) body.push(asn1.create(U, T.BOOLEAN, false, "\xff"));
  if (ca && pathLen !== undefined) body.push(intNode(pathLen));
  return {
    oid: OID.basicConstraints,
    critical: true,
    value: asn1.create(U, T.SEQUENCE, true, body),
  };
}

export function keyUsageExt(bits: number[], critical = true): ExtensionSpec {
  const max = Math.max(...bits);
  const bytes = new Uint8Array(Math.floor(max / 8) + 1);
  for (const b of bits) bytes[Math.floor(b / 8)] |= 0x80 >> (b % 8);
  // DER drops trailing zero bits: everything after the highest set bit is "unused".
  const unused = 7 - (max % 8);
  const value = asn1.create(
    U,
    T.BITSTRING,
    false,
    String.fromCharCode(unused) + Buffer.from(bytes).toString("binary"),
  );
  return { oid: OID.keyUsage, critical, value };
}

export function extKeyUsageExt(oids: string[], critical = false): ExtensionSpec {
  return {
    oid: OID.extKeyUsage,
    critical,
    value: asn1.create(
      U,
      T.SEQUENCE,
      true,
      oids.map((o) => asn1.create(U, T.OID, false, asn1.oidToDer(o).getBytes())),
    ),
  };
}

export function subjectAltNameExt(names: string[]): ExtensionSpec {
  const items = names.map((n) => {
    const v = isIP(n);
    if (v === 4) {
      const bytes = n.split(".").map(Number);
      return asn1.create(asn1.Class.CONTEXT_SPECIFIC, 7, false, String.fromCharCode(...bytes));
    }
    if (v === 6) return asn1.create(asn1.Class.CONTEXT_SPECIFIC, 7, false, ipv6Bytes(n));
    return asn1.create(asn1.Class.CONTEXT_SPECIFIC, 2, false, n);
  });
  return {
    oid: OID.subjectAltName,
    critical: false,
    value: asn1.create(U, T.SEQUENCE, true, items),
  };
}

/**
 * A certificate that cannot be issued as asked: a host name that is no name, an IPv6 address
 * with an embedded IPv4 part, or a CA key that does not belong to the CA certificate.
 */
export class CertIssueError extends UpdraftError {
  readonly code = "cert-issue";
  override name = "CertIssueError";
}

function ipv6Bytes(ip: string): string {
  if (ip.includes("."))
    throw new CertIssueError(`IPv6 address ${ip} with an embedded IPv4 part is not supported`);
  const [head, tail] = ip.split("::");
  const h = head ? head.split(":") : [];
  const t = tail !== undefined && tail !== "" ? tail.split(":") : [];
  const groups =
    tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill("0"), ...t];
  return Buffer.from(
    groups.flatMap((g) => [parseInt(g, 16) >> 8, parseInt(g, 16) & 0xff]),
  ).toString("binary");
}

/** RFC 5280 method 1: SHA-1 of the subjectPublicKey bits. */
export function keyIdentifier(spkiDer: Buffer): Buffer {
  const spki = expectTlv(spkiDer, Tag.SEQUENCE, "SubjectPublicKeyInfo");
  const bits = children(spkiDer, spki)[1];
  if (!bits || bits.tag !== Tag.BIT_STRING)
    throw new Error("SubjectPublicKeyInfo without key bits");
  return createHash("sha1").update(content(spkiDer, bits).subarray(1)).digest();
}

export function subjectKeyIdExt(spkiDer: Buffer): ExtensionSpec {
  return {
    oid: OID.subjectKeyId,
    critical: false,
    value: asn1.create(U, T.OCTETSTRING, false, bin(keyIdentifier(spkiDer))),
  };
}

export function authorityKeyIdExt(issuerSpkiDer: Buffer): ExtensionSpec {
  return {
    oid: OID.authorityKeyId,
    critical: false,
    value: asn1.create(U, T.SEQUENCE, true, [
      asn1.create(asn1.Class.CONTEXT_SPECIFIC, 0, false, bin(keyIdentifier(issuerSpkiDer))),
    ]),
  };
}

/**
 * An OID's encoded content (binary string, as node-forge takes it), for arcs of any size: forge's
 * own encoder stops at 32 bits, and the pilot-binding language's last arc is a 128-bit UUID.
 */
export function oidBytes(oid: string): string {
  const arcs = oid.split(".").map((a) => BigInt(a));
  if (arcs.length < 2) throw new Error(`an OID has at least two arcs: ${oid}`);
  const subids = [arcs[0]! * 40n + arcs[1]!, ...arcs.slice(2)];
  const out: number[] = [];
  for (const v of subids) {
    const groups = [Number(v & 0x7fn)];
    for (let rest = v >> 7n; rest > 0n; rest >>= 7n) groups.unshift(Number(rest & 0x7fn) | 0x80);
    out.push(...groups);
  }
  return String.fromCharCode(...out);
}

/** RFC 3820 ProxyCertInfo; `oid` lets tests build the pre-RFC draft variant. */
export function proxyCertInfoExt(opts: {
  policyLanguage: string;
  /** The ProxyPolicy's policy bytes (an OCTET STRING after the language). */
  policy?: Buffer;
  pathLen?: number;
  critical?: boolean;
  oid?: string;
}): ExtensionSpec {
  const body: Node[] = [];
  if (opts.pathLen !== undefined) body.push(intNode(opts.pathLen));
  const policy: Node[] = [asn1.create(U, T.OID, false, oidBytes(opts.policyLanguage))];
  if (opts.policy !== undefined) {
    policy.push(asn1.create(U, T.OCTETSTRING, false, opts.policy.toString("binary")));
  }
  body.push(asn1.create(U, T.SEQUENCE, true, policy));
  return {
    oid: opts.oid ?? OID.proxyCertInfo,
    critical: opts.critical ?? true,
    value: asn1.create(U, T.SEQUENCE, true, body),
  };
}

export function intNode(n: number): Node {
  let hex = n.toString(16);
  if (hex.length % 2) hex = "0" + hex;
  if (parseInt(hex.slice(0, 2), 16) & 0x80) hex = "00" + hex;
  return asn1.create(U, T.INTEGER, false, Buffer.from(hex, "hex").toString("binary"));
}
