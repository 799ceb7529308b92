/**
 * A minimal DER reader over Buffers. Certificates and CRLs are parsed with it so that the exact
 * bytes of names and to-be-signed parts stay available: re-encoding a parsed structure is not
 * guaranteed to reproduce what was signed.
 */
import { UpdraftError } from "../common/errors.js";

export interface Tlv {
  /** The identifier octet (class, constructed bit and tag number, single-byte tags only). */
  tag: number;
  /** Offset of the identifier octet. */
  start: number;
  /** Offset of the first content octet. */
  contentStart: number;
  /** Offset just past the last content octet. */
  end: number;
}

export const Tag = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  UTF8_STRING: 0x0c,
  PRINTABLE_STRING: 0x13,
  T61_STRING: 0x14,
  IA5_STRING: 0x16,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  VISIBLE_STRING: 0x1a,
  UNIVERSAL_STRING: 0x1c,
  BMP_STRING: 0x1e,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;

export class DerError extends UpdraftError {
  readonly code = "der-invalid";
  override name = "DerError";
}

/** Read the TLV starting at `offset`; throws DerError when it does not fit in `limit`. */
export function readTlv(buf: Buffer, offset = 0, limit = buf.length): Tlv {
  if (offset + 2 > limit) throw new DerError(`truncated DER at offset ${offset}`);
  const tag = buf[offset];
  if ((tag & 0x1f) === 0x1f) throw new DerError(`multi-byte DER tags are not supported`);
  let len = buf[offset + 1];
  let contentStart = offset + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4) throw new DerError(`unsupported DER length form at offset ${offset}`);
    if (contentStart + n > limit) throw new DerError(`truncated DER length at offset ${offset}`);
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[contentStart + i];
    contentStart += n;
  }
  const end = contentStart + len;
  if (end > limit) throw new DerError(`DER value at offset ${offset} overruns its container`);
  return { tag, start: offset, contentStart, end };
}

/** The children of a constructed TLV, in order. */
export function children(buf: Buffer, parent: Tlv): Tlv[] {
  const out: Tlv[] = [];
  let p = parent.contentStart;
  while (p < parent.end) {
    const t = readTlv(buf, p, parent.end);
    out.push(t);
    p = t.end;
  }
  return out;
}

/** The whole encoding (identifier, length and content) of a TLV. */
export function raw(buf: Buffer, t: Tlv): Buffer {
  return buf.subarray(t.start, t.end);
}

export function content(buf: Buffer, t: Tlv): Buffer {
  return buf.subarray(t.contentStart, t.end);
}

/** Parse a whole buffer that must hold exactly one TLV of the given tag. */
export function expectTlv(buf: Buffer, tag: number, what: string): Tlv {
  const t = readTlv(buf, 0);
  if (t.tag !== tag) throw new DerError(`${what}: expected tag 0x${tag.toString(16)}`);
  return t;
}

export function decodeOid(bytes: Buffer): string {
  if (bytes.length === 0) throw new DerError("empty OID");
  // BigInt: arcs under 2.25 are UUIDs, 128 bits (the pilot-binding policy language is one).
  const parts: bigint[] = [];
  let value = 0n;
  for (const b of bytes) {
    value = (value << 7n) | BigInt(b & 0x7f);
    if (!(b & 0x80)) {
      parts.push(value);
      value = 0n;
    }
  }
  const first = parts.shift() ?? 0n;
  const head = first < 80n ? [first / 40n, first % 40n] : [2n, first - 80n];
  return [...head, ...parts].join(".");
}

/** An INTEGER's magnitude as upper-case hex without leading zeros (how serials are compared). */
export function integerHex(bytes: Buffer): string {
  const hex = bytes.toString("hex").replace(/^0+/, "").toUpperCase();
  return hex === "" ? "0" : hex;
}

/** A small non-negative INTEGER as a number (path lengths, versions). */
export function integerValue(bytes: Buffer): number {
  if (bytes.length > 6 || (bytes.length > 0 && bytes[0] & 0x80)) {
    throw new DerError("INTEGER out of range");
  }
  let v = 0;
  for (const b of bytes) v = v * 256 + b;
  return v;
}

/** UTCTime or GeneralizedTime (the forms RFC 5280 allows: Zulu, seconds present). */
export function decodeTime(buf: Buffer, t: Tlv): Date {
  const s = content(buf, t).toString("latin1");
  let m: RegExpMatchArray | null;
  if (t.tag === Tag.UTC_TIME) {
    m = /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})?Z$/.exec(s);
    if (!m) throw new DerError(`bad UTCTime "${s}"`);
    const yy = Number(m[1]);
    return utc(yy >= 50 ? 1900 + yy : 2000 + yy, m.slice(2));
  }
  if (t.tag === Tag.GENERALIZED_TIME) {
    m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(?:\.\d+)?Z$/.exec(s);
    if (!m) throw new DerError(`bad GeneralizedTime "${s}"`);
    return utc(Number(m[1]), m.slice(2));
  }
  throw new DerError("expected a time value");
}

function utc(year: number, rest: string[]): Date {
  const [mo, d, h, mi, sec] = rest.map((x) => Number(x ?? 0));
  return new Date(Date.UTC(year, mo - 1, d, h, mi, sec));
}
