/**
 * X.509 v2 CRLs. forge cannot make CRLs, so the structure is built with its ASN.1 layer and
 * signed with node:crypto; parsing keeps the exact to-be-signed bytes for signature checks.
 */
import { verify as cryptoVerify } from "node:crypto";
import type { KeyObject } from "node:crypto";
import forge from "node-forge";
import {
  authorityKeyIdExt,
  extensionsNode,
  intNode,
  sha256WithRsaAlgorithm,
  signStructure,
  timeNode,
} from "./cert-builder.js";
import { OID } from "./cert-info.js";
import {
  DerError,
  Tag,
  children,
  content,
  decodeOid,
  decodeTime,
  expectTlv,
  integerHex,
  raw,
} from "./der.js";

const asn1 = forge.asn1;
const U = asn1.Class.UNIVERSAL;
const T = asn1.Type;

export interface RevokedEntry {
  /** Upper-case hex without leading zeros, as CertInfo.serialHex. */
  serialHex: string;
  date: Date;
}

export interface CrlSpec {
  issuerDer: Buffer;
  issuerSpkiDer: Buffer;
  revoked: RevokedEntry[];
  crlNumber: number;
  thisUpdate: Date;
  nextUpdate: Date;
}

export function buildCrl(spec: CrlSpec, caKey: KeyObject): Buffer {
  const fields: forge.asn1.Asn1[] = [
    asn1.create(U, T.INTEGER, false, "\x01"), // v2
    sha256WithRsaAlgorithm(),
    asn1.fromDer(spec.issuerDer.toString("binary")),
    timeNode(spec.thisUpdate),
    timeNode(spec.nextUpdate),
  ];
  if (spec.revoked.length > 0) {
    fields.push(
      asn1.create(
        U,
        T.SEQUENCE,
        true,
        spec.revoked.map((r) =>
          asn1.create(U, T.SEQUENCE, true, [serialNode(r.serialHex), timeNode(r.date)]),
        ),
      ),
    );
  }
  fields.push(
    asn1.create(asn1.Class.CONTEXT_SPECIFIC, 0, true, [
      extensionsNode([
        authorityKeyIdExt(spec.issuerSpkiDer),
        { oid: OID.crlNumber, critical: false, value: intNode(spec.crlNumber) },
      ]),
    ]),
  );
  return signStructure(asn1.create(U, T.SEQUENCE, true, fields), caKey);
}

function serialNode(hex: string): forge.asn1.Asn1 {
  let h = hex.length % 2 ? "0" + hex : hex;
  if (parseInt(h.slice(0, 2), 16) & 0x80) h = "00" + h;
  return asn1.create(U, T.INTEGER, false, Buffer.from(h, "hex").toString("binary"));
}

export interface CrlInfo {
  der: Buffer;
  issuerDer: Buffer;
  thisUpdate: Date;
  nextUpdate: Date | undefined;
  revoked: Map<string, Date>;
  crlNumber: number | undefined;
  tbsDer: Buffer;
  signatureAlgorithm: string;
  signature: Buffer;
}

export function parseCrl(der: Buffer): CrlInfo {
  const outer = expectTlv(der, Tag.SEQUENCE, "CertificateList");
  const [tbs, alg, sig] = children(der, outer);
  if (!tbs || !alg || !sig) throw new DerError("truncated CRL");
  const f = children(der, tbs);
  let i = 0;
  if (f[i]?.tag === Tag.INTEGER) i++;
  i++; // signature algorithm inside TBS
  const issuer = f[i++];
  const thisUpdate = decodeTime(der, f[i++]);
  let nextUpdate: Date | undefined;
  if (f[i] && (f[i].tag === Tag.UTC_TIME || f[i].tag === Tag.GENERALIZED_TIME)) {
    nextUpdate = decodeTime(der, f[i++]);
  }
  const revoked = new Map<string, Date>();
  if (f[i]?.tag === Tag.SEQUENCE) {
    for (const entry of children(der, f[i++])) {
      const [serial, date] = children(der, entry);
      revoked.set(integerHex(content(der, serial)), decodeTime(der, date));
    }
  }
  let crlNumber: number | undefined;
  if (f[i]?.tag === 0xa0) {
    const [exts] = children(der, f[i]);
    for (const ext of children(der, exts)) {
      const parts = children(der, ext);
      if (decodeOid(content(der, parts[0])) === OID.crlNumber) {
        const v = content(der, parts[parts.length - 1]);
        crlNumber = parseInt(integerHex(content(v, expectTlv(v, Tag.INTEGER, "cRLNumber"))), 16);
      }
    }
  }
  const sigBits = content(der, sig);
  return {
    der,
    issuerDer: Buffer.from(raw(der, issuer)),
    thisUpdate,
    nextUpdate,
    revoked,
    crlNumber,
    tbsDer: Buffer.from(raw(der, tbs)),
    signatureAlgorithm: decodeOid(content(der, children(der, alg)[0])),
    signature: Buffer.from(sigBits.subarray(1)),
  };
}

const DIGESTS: Record<string, string> = {
  "1.2.840.113549.1.1.5": "sha1",
  "1.2.840.113549.1.1.11": "sha256",
  "1.2.840.113549.1.1.12": "sha384",
  "1.2.840.113549.1.1.13": "sha512",
  "1.2.840.10045.4.3.2": "sha256",
  "1.2.840.10045.4.3.3": "sha384",
  "1.2.840.10045.4.3.4": "sha512",
};

/** Whether the CRL's signature was made by the key of `issuer`. */
export function crlSignedBy(crl: CrlInfo, issuer: KeyObject): boolean {
  const digest = DIGESTS[crl.signatureAlgorithm];
  if (!digest) return false;
  try {
    return cryptoVerify(digest, crl.tbsDer, issuer, crl.signature);
  } catch {
    return false;
  }
}

export function pemCrls(text: string): Buffer[] {
  const out: Buffer[] = [];
  const re = /-----BEGIN X509 CRL-----([\s\S]*?)-----END X509 CRL-----/g;
  for (let m = re.exec(text); m; m = re.exec(text)) out.push(Buffer.from(m[1], "base64"));
  return out;
}
