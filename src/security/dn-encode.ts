/**
 * Distinguished names built with node-forge: a slash-form DN as DER, one RDN as forge ASN.1, and a
 * name with one more CN (a proxy's subject). Apart from dn.ts so that a process that only reads
 * names (a pilot) neither loads nor ships forge.
 */
import type forgeModule from "node-forge";
import { content, expectTlv, Tag } from "./der.js";
import { derSequence, parseSlashDn, shortName, type DnAttribute } from "./dn.js";
import { forge } from "./forge.js";

const PRINTABLE = /^[A-Za-z0-9 '()+,\-./:=?]*$/;

function valueTag(a: DnAttribute): number {
  const name = shortName(a.oid);
  if (name === "DC" || name === "emailAddress") return Tag.IA5_STRING;
  if (name === "C") return Tag.PRINTABLE_STRING;
  return PRINTABLE.test(a.value) ? Tag.PRINTABLE_STRING : Tag.UTF8_STRING;
}

/** One single-valued RDN as a forge ASN.1 SET. */
export function rdnAsn1(a: DnAttribute): forgeModule.asn1.Asn1 {
  const { asn1, util } = forge();
  const tag = valueTag(a);
  const bytes = tag === Tag.UTF8_STRING ? util.encodeUtf8(a.value) : a.value;
  return asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SET, true, [
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
      asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OID, false, asn1.oidToDer(a.oid).getBytes()),
      asn1.create(asn1.Class.UNIVERSAL, tag, false, bytes),
    ]),
  ]);
}

/** DER of a Name from slash form. */
export function encodeSlashDn(dn: string): Buffer {
  const { asn1 } = forge();
  const seq = asn1.create(
    asn1.Class.UNIVERSAL,
    asn1.Type.SEQUENCE,
    true,
    parseSlashDn(dn).map(rdnAsn1),
  );
  return Buffer.from(asn1.toDer(seq).getBytes(), "binary");
}

/** DER of `name` with one more RDN `CN=cn` at the end (how a proxy's subject is formed). */
export function appendCn(nameDer: Buffer, cn: string): Buffer {
  const { asn1 } = forge();
  const rdn = Buffer.from(asn1.toDer(rdnAsn1({ oid: "2.5.4.3", value: cn })).getBytes(), "binary");
  const outer = expectTlv(nameDer, Tag.SEQUENCE, "Name");
  return derSequence(Buffer.concat([content(nameDer, outer), rdn]));
}
