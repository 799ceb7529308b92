/**
 * Reads of files whose size nobody promised (a peer's upload, a site's file, a trust directory
 * anyone with write access may fill): each takes a bound, so a huge or endless file (/dev/zero)
 * costs no more than the bound.
 */
import { createHash } from "node:crypto";
import { closeSync, openSync, readSync } from "node:fs";
import { UpdraftError } from "./errors.js";

/** A credential file (proxy, key, certificate, token): a proxy with its chain is a few KiB. */
export const MAX_CREDENTIAL_FILE_BYTES = 1 << 20;
/** A file a user hands a command (submit description, ad, expression): far past any real one. */
export const MAX_INPUT_FILE_BYTES = 64 << 20;

/** A bounded read that met its bound. */
export class FileTooLargeError extends UpdraftError {
  readonly code = "file-too-large";
  constructor(
    readonly path: string,
    readonly maxBytes: number,
  ) {
    super(`${path} is larger than ${sizeText(maxBytes)}, the most read from such a file`);
  }
}

/**
 * At most `maxBytes` from the start of the file (or of an open descriptor such as 0 for
 * standard input); open and read errors are thrown as they come.
 */
export function readHead(path: string | number, maxBytes: number): Buffer {
  const fd = typeof path === "number" ? path : openSync(path, "r");
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
    if (typeof path !== "number") closeSync(fd);
  }
}

/** The whole file when it holds at most `maxBytes`; undefined when it holds more. */
export function readBounded(path: string | number, maxBytes: number): Buffer | undefined {
  const head = readHead(path, maxBytes + 1);
  return head.length > maxBytes ? undefined : head;
}

/**
 * The whole file as text; FileTooLargeError when it holds more than `maxBytes`. `"-"` reads
 * standard input, as the CLI's file arguments allow.
 */
export function readBoundedText(
  path: string,
  maxBytes: number,
  encoding: BufferEncoding = "utf8",
): string {
  const stdin = path === "-";
  const b = readBounded(stdin ? 0 : path, maxBytes);
  if (b === undefined) throw new FileTooLargeError(stdin ? "standard input" : path, maxBytes);
  return b.toString(encoding);
}

/** Chunk of a streamed hash: small enough to stay out of the old generation, large enough to be few. */
const HASH_CHUNK_BYTES = 64 * 1024;

/**
 * The SHA-256 (hex) of the file, read in chunks through one open descriptor so that memory stays
 * one chunk and the bytes hashed are those of the file opened (not of a file swapped in after a
 * size check); undefined when it holds more than `maxBytes`. Open and read errors are thrown.
 */
export function sha256Bounded(path: string, maxBytes: number): string | undefined {
  const fd = openSync(path, "r");
  try {
    const hash = createHash("sha256");
    const buf = Buffer.alloc(HASH_CHUNK_BYTES);
    let total = 0;
    for (;;) {
      const got = readSync(fd, buf, 0, buf.length, null);
      if (got === 0) return hash.digest("hex");
      total += got;
      if (total > maxBytes) return undefined;
      hash.update(buf.subarray(0, got));
    }
  } finally {
    closeSync(fd);
  }
}

/** The SHA-256 (hex) of the whole file, read as sha256Bounded reads it. */
export function sha256File(path: string): string {
  return sha256Bounded(path, Number.POSITIVE_INFINITY)!;
}

function sizeText(bytes: number): string {
  if (bytes % (1 << 20) === 0) return `${bytes >> 20} MiB`;
  if (bytes % 1024 === 0) return `${bytes >> 10} KiB`;
  return `${bytes} bytes`;
}
