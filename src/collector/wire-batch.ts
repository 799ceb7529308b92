/**
 * Decoding of `AdBatch` (updraft.proto) straight from bytes into attribute byte ranges. The
 * generic decoder makes two strings per attribute and an object per ad; at tens of thousands of
 * 60-attribute ads per second that dominated the collector's time. Here nothing is copied: the
 * interner looks the ranges up and only text it has never seen becomes a string.
 */
import { UpdraftError } from "../common/errors.js";

/** One decoded batch: attribute ranges into `buf`, four numbers per attribute. */
export interface RawBatch {
  readonly buf: Uint8Array;
  /** [nameStart, nameEnd, textStart, textEnd] per attribute, ads one after another. */
  readonly ranges: Int32Array;
  /** Ad i's attributes are ranges[4 * adStarts[i]] up to ranges[4 * adStarts[i + 1]]. */
  readonly adStarts: Int32Array;
  /** The batch's default type (AdBatch.type). */
  readonly type: string;
}

export class MalformedBatch extends UpdraftError {
  readonly code = "batch-malformed";
  constructor(message: string) {
    super(`malformed AdBatch: ${message}`);
    this.name = "MalformedBatch";
  }
}

class Cursor {
  pos: number;
  constructor(
    readonly buf: Uint8Array,
    start: number,
    readonly end: number,
  ) {
    this.pos = start;
  }

  varint(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      if (this.pos >= this.end) throw new MalformedBatch("truncated varint");
      const b = this.buf[this.pos++]!;
      if (shift < 28) result |= (b & 0x7f) << shift;
      else result += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return result;
      shift += 7;
      if (shift > 63) throw new MalformedBatch("varint too long");
    }
  }

  /** A length-delimited field: returns its end and leaves pos at its start. */
  delimited(): number {
    const len = this.varint();
    const end = this.pos + len;
    if (end > this.end) throw new MalformedBatch("field runs past its message");
    return end;
  }

  skip(wireType: number): void {
    switch (wireType) {
      case 0:
        this.varint();
        return;
      case 1:
        this.pos += 8;
        break;
      case 2:
        this.pos = this.delimited();
        return;
      case 5:
        this.pos += 4;
        break;
      default:
        throw new MalformedBatch(`unsupported wire type ${wireType}`);
    }
    if (this.pos > this.end) throw new MalformedBatch("truncated field");
  }
}

export function decodeAdBatch(buf: Uint8Array): RawBatch {
  let ranges = new Int32Array(1024);
  let count = 0;
  const adStarts: number[] = [];
  let type = "";
  const c = new Cursor(buf, 0, buf.length);
  while (c.pos < c.end) {
    const tag = c.varint();
    const field = tag >>> 3;
    const wire = tag & 7;
    if (field === 1 && wire === 2) {
      adStarts.push(count);
      const adEnd = c.delimited();
      while (c.pos < adEnd) {
        const adTag = c.varint();
        if (adTag !== 0x0a) {
          c.skip(adTag & 7);
          continue;
        }
        const entryEnd = c.delimited();
        let ks = c.pos;
        let ke = c.pos;
        let vs = c.pos;
        let ve = c.pos;
        while (c.pos < entryEnd) {
          const entryTag = c.varint();
          if (entryTag === 0x0a) {
            ke = c.delimited();
            ks = c.pos;
            c.pos = ke;
          } else if (entryTag === 0x12) {
            ve = c.delimited();
            vs = c.pos;
            c.pos = ve;
          } else c.skip(entryTag & 7);
        }
        if (c.pos !== entryEnd) throw new MalformedBatch("attribute runs past its entry");
        if (4 * count + 4 > ranges.length) {
          const grown = new Int32Array(ranges.length * 2);
          grown.set(ranges);
          ranges = grown;
        }
        ranges[4 * count] = ks;
        ranges[4 * count + 1] = ke;
        ranges[4 * count + 2] = vs;
        ranges[4 * count + 3] = ve;
        count++;
      }
      if (c.pos !== adEnd) throw new MalformedBatch("ad runs past its end");
    } else if (field === 2 && wire === 2) {
      const end = c.delimited();
      type = new TextDecoder("utf-8", { fatal: true }).decode(buf.subarray(c.pos, end));
      c.pos = end;
    } else {
      c.skip(wire);
    }
  }
  adStarts.push(count);
  return { buf, ranges, adStarts: Int32Array.from(adStarts), type };
}

/** Number of ads in a batch. */
export function batchSize(b: RawBatch): number {
  return b.adStarts.length - 1;
}
