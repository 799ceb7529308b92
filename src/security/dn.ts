/**
 * Distinguished names: the grid "slash" form (`/DC=org/DC=example/CN=Alice`), DER encoding,
 * OpenSSL's canonical form (used for name comparison and for the `<hash>.0` file names of a trust
 * directory) and the subject hash itself. Building names with node-forge is in dn-encode.ts, so
 * that reading and comparing names (all a pilot does) never needs forge.
 */
import { createHash } from "node:crypto";
import { Tag, children, content, decodeOid, expectTlv, raw, readTlv } from "./der.js";
import { UpdraftError } from "../common/errors.js";

/** OpenSSL's short names for the attribute types seen in grid DNs. */
const SHORT_NAMES: Record<string, string> = {
  "2.5.4.3": "CN",
  "2.5.4.4": "SN",
  "2.5.4.5": "serialNumber",
  "2.5.4.6": "C",
  "2.5.4.7": "L",
  "2.5.4.8": "ST",
  "2.5.4.9": "street",
  "2.5.4.10": "O",
  "2.5.4.11": "OU",
  "2.5.4.12": "title",
  "2.5.4.13": "description",
  "2.5.4.15": "businessCategory",
  "2.5.4.17": "postalCode",
  "2.5.4.41": "name",
  "2.5.4.42": "GN",
  "2.5.4.43": "initials",
  "2.5.4.44": "generationQualifier",
  "2.5.4.46": "dnQualifier",
  "2.5.4.65": "pseudonym",
  "0.9.2342.19200300.100.1.1": "UID",
  "0.9.2342.19200300.100.1.25": "DC",
  "1.2.840.113549.1.9.1": "emailAddress",
};

const OIDS_BY_NAME: Record<string, string> = Object.fromEntries(
  Object.entries(SHORT_NAMES).map(([oid, name]) => [name.toLowerCase(), oid]),
);
OIDS_BY_NAME["e"] = OIDS_BY_NAME["emailaddress"];
OIDS_BY_NAME["email"] = OIDS_BY_NAME["emailaddress"];

export interface DnAttribute {
  oid: string;
  value: string;
}

export class DnError extends UpdraftError {
  readonly code = "dn-invalid";
  override name = "DnError";
}

/**
 * Parse the slash form. OpenSSL writes `/` and `+` inside values as `\/` and `\+`; Globus-style
 * names often leave the slash bare (`/CN=host/ce.example.org`), so a bare `/` only starts a new
 * attribute when `TYPE=` follows it.
 */
export function parseSlashDn(dn: string): DnAttribute[] {
  if (!dn.startsWith("/")) throw new DnError(`DN "${dn}" must start with "/"`);
  const parts: string[] = [];
  let cur = "";
  for (let i = 1; i < dn.length; i++) {
    const ch = dn[i];
    if (ch === "\\" && (dn[i + 1] === "/" || dn[i + 1] === "+")) {
      cur += dn[++i];
    } else if (ch === "/" && /^[A-Za-z][A-Za-z0-9.]*=/.test(dn.slice(i + 1))) {
      parts.push(cur);
      cur = "";
    } else {
      cur += ch;
    }
  }
  parts.push(cur);
  return parts.map((part) => {
    const eq = part.indexOf("=");
    if (eq <= 0) throw new DnError(`DN "${dn}": "${part}" is not TYPE=value`);
    const type = part.slice(0, eq);
    const value = part.slice(eq + 1);
    if (value === "") throw new DnError(`DN "${dn}": ${type} has an empty value`);
    const oid = /^\d+(\.\d+)+$/.test(type) ? type : OIDS_BY_NAME[type.toLowerCase()];
    if (!oid) throw new DnError(`DN "${dn}": unknown attribute type "${type}"`);
    return { oid, value };
  });
}

/** OpenSSL's short name of an attribute type (`CN`, `DC`, ...), if it is one seen in grid DNs. */
export function shortName(oid: string): string | undefined {
  return SHORT_NAMES[oid];
}

/** A DER SEQUENCE around `body`. */
export function derSequence(body: Buffer): Buffer {
  const len = body.length;
  let header: Buffer;
  if (len < 0x80) header = Buffer.from([0x30, len]);
  else if (len < 0x100) header = Buffer.from([0x30, 0x81, len]);
  else if (len < 0x10000) header = Buffer.from([0x30, 0x82, len >> 8, len & 0xff]);
  else header = Buffer.from([0x30, 0x83, len >> 16, (len >> 8) & 0xff, len & 0xff]);
  return Buffer.concat([header, body]);
}

interface Ava {
  oid: string;
  oidRaw: Buffer;
  tag: number;
  value: Buffer;
  rawValue: Buffer;
}

/** The RDNs of a DER Name, each a list of attribute-value assertions. */
function readName(nameDer: Buffer): Ava[][] {
  const outer = expectTlv(nameDer, Tag.SEQUENCE, "Name");
  return children(nameDer, outer).map((set) => {
    if (set.tag !== Tag.SET) throw new DnError("Name: RDN is not a SET");
    return children(nameDer, set).map((seq) => {
      const [type, value] = children(nameDer, seq);
      if (!type || !value || type.tag !== Tag.OID) throw new DnError("Name: bad attribute");
      return {
        oid: decodeOid(content(nameDer, type)),
        oidRaw: raw(nameDer, type),
        tag: value.tag,
        value: content(nameDer, value),
        rawValue: raw(nameDer, value),
      };
    });
  });
}

const STRING_TAGS = new Set<number>([
  Tag.UTF8_STRING,
  Tag.PRINTABLE_STRING,
  Tag.T61_STRING,
  Tag.IA5_STRING,
  Tag.VISIBLE_STRING,
  Tag.UNIVERSAL_STRING,
  Tag.BMP_STRING,
]);

/** The value's characters as UTF-8 bytes (T61 read as Latin-1, as OpenSSL does). */
function toUtf8(tag: number, v: Buffer): Buffer {
  switch (tag) {
    case Tag.UTF8_STRING:
      return v;
    case Tag.BMP_STRING: {
      const swapped = Buffer.from(v).swap16();
      return Buffer.from(swapped.toString("utf16le"), "utf8");
    }
    case Tag.UNIVERSAL_STRING: {
      let s = "";
      for (let i = 0; i + 3 < v.length; i += 4) s += String.fromCodePoint(v.readUInt32BE(i));
      return Buffer.from(s, "utf8");
    }
    default:
      return Buffer.from(v.toString("latin1"), "utf8");
  }
}

const isSpace = (b: number) => b === 0x20 || (b >= 0x09 && b <= 0x0d);

/** OpenSSL's string canonicalisation: trim, collapse white space, lower-case ASCII. */
function canonString(bytes: Buffer): Buffer {
  let s = 0;
  let e = bytes.length;
  while (s < e && isSpace(bytes[s])) s++;
  while (e > s && isSpace(bytes[e - 1])) e--;
  const out: number[] = [];
  for (let i = s; i < e; i++) {
    const b = bytes[i];
    if (isSpace(b)) {
      out.push(0x20);
      while (i + 1 < e && isSpace(bytes[i + 1])) i++;
    } else {
      out.push(b >= 0x41 && b <= 0x5a ? b + 0x20 : b);
    }
  }
  return Buffer.from(out);
}

function tlv(tag: number, body: Buffer): Buffer {
  return Buffer.concat([derHeader(tag, body.length), body]);
}

function derHeader(tag: number, len: number): Buffer {
  if (len < 0x80) return Buffer.from([tag, len]);
  const bytes: number[] = [];
  for (let l = len; l > 0; l = Math.floor(l / 256)) bytes.unshift(l & 0xff);
  return Buffer.from([tag, 0x80 | bytes.length, ...bytes]);
}

/**
 * OpenSSL's canonical encoding of a Name: each RDN SET in DER with string values turned into
 * lower-cased, space-collapsed UTF8Strings, concatenated without the outer SEQUENCE.
 */
export function canonicalName(nameDer: Buffer): Buffer {
  const sets = readName(nameDer).map((rdn) => {
    const avas = rdn.map((a) => {
      const value = STRING_TAGS.has(a.tag)
        ? tlv(Tag.UTF8_STRING, canonString(toUtf8(a.tag, a.value)))
        : a.rawValue;
      return tlv(Tag.SEQUENCE, Buffer.concat([a.oidRaw, value]));
    });
    // DER orders the members of a SET OF by their encodings.
    avas.sort(Buffer.compare);
    return tlv(Tag.SET, Buffer.concat(avas));
  });
  return Buffer.concat(sets);
}

/** `openssl x509 -subject_hash`: SHA-1 of the canonical name, first 4 bytes little-endian. */
export function subjectHash(nameDer: Buffer): string {
  const digest = createHash("sha1").update(canonicalName(nameDer)).digest();
  return digest.readUInt32LE(0).toString(16).padStart(8, "0");
}

/** Names are equal when their canonical forms are (OpenSSL's X509_NAME_cmp). */
export function namesEqual(a: Buffer, b: Buffer): boolean {
  return a.equals(b) || canonicalName(a).equals(canonicalName(b));
}

/** The slash form as `openssl x509 -noout -subject -nameopt compat` prints it. */
export function formatSlashDn(nameDer: Buffer): string {
  return readName(nameDer)
    .map((rdn) =>
      rdn
        .map((a) => {
          const name = SHORT_NAMES[a.oid] ?? a.oid;
          const bytes = STRING_TAGS.has(a.tag) ? toUtf8(a.tag, a.value) : a.value;
          let v = "";
          for (const b of bytes) {
            if (b < 0x20 || b > 0x7e) v += `\\x${b.toString(16).toUpperCase().padStart(2, "0")}`;
            // OpenSSL escapes the two characters that would split the slash form.
            else if (b === 0x2f || b === 0x2b) v += `\\${String.fromCharCode(b)}`;
            else v += String.fromCharCode(b);
          }
          return `${name}=${v}`;
        })
        .join("+"),
    )
    .map((s) => `/${s}`)
    .join("");
}

/** The value of the last RDN when it is a single CN (for proxy subject checks), else undefined. */
export function lastCn(nameDer: Buffer): string | undefined {
  const rdns = readName(nameDer);
  const last = rdns[rdns.length - 1];
  if (!last || last.length !== 1 || last[0].oid !== "2.5.4.3") return undefined;
  return toUtf8(last[0].tag, last[0].value).toString("utf8");
}

/** The Name with its last RDN removed, DER encoded. */
export function dropLastRdn(nameDer: Buffer): Buffer {
  const outer = expectTlv(nameDer, Tag.SEQUENCE, "Name");
  const sets = children(nameDer, outer);
  if (sets.length === 0) return nameDer;
  const body = nameDer.subarray(outer.contentStart, sets[sets.length - 1].start);
  return derSequence(body);
}

export function rdnCount(nameDer: Buffer): number {
  return children(nameDer, readTlv(nameDer, 0)).length;
}
