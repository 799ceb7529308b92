/**
 * Reads of files whose size nobody promised (a peer's upload, a site's file, a trust directory
 * anyone with write access may fill): each takes a bound, so a huge or endless file (/dev/zero)
 * costs no more than the bound.
 */
import { closeSync, openSync, readSync } from "node:fs";

/** At most `maxBytes` from the start of the file; open and read errors are thrown as they come. */
export function readHead(path: string, maxBytes: number): Buffer {
  const fd = openSync(path, "r");
  try {
    const buf = Buffer.alloc(maxBytes);
    let n = 0;
    // A read may return less than asked (a pipe, a special file): go on until full or at the end.
    while (n < maxBytes) {
      const got = readSync(fd, buf, n, maxBytes - n, null);
      if (got === 0) break;
      n += got;
    }
    return buf.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}

/** The whole file when it holds at most `maxBytes`; undefined when it holds more. */
export function readBounded(path: string, maxBytes: number): Buffer | undefined {
  const head = readHead(path, maxBytes + 1);
  return head.length > maxBytes ? undefined : head;
}
