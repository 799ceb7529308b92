/**
 * A minimal POSIX ustar writer: regular files and directories, nothing else. Enough for the
 * pilot install archive, which every worker node's `tar xzf` (GNU, BSD, BusyBox) unpacks.
 * Owner, group and time are fixed so the same build always gives the same bytes, and so the same
 * archive hash.
 */
import { UpdraftError } from "../../common/errors.js";

export interface TarEntry {
  /** Relative path with `/` separators; directories without a trailing slash. */
  path: string;
  /** Permission bits, e.g. 0o644. */
  mode: number;
  /** File contents; absent for a directory. */
  data?: Buffer;
}

const BLOCK = 512;
/** 2020-01-01T00:00:00Z: a fixed, plausible time (some tars warn about a zero mtime). */
export const TAR_MTIME = 1577836800;

function octal(n: number, width: number): string {
  // width - 1 digits and a NUL, as ustar wants.
  const s = n.toString(8);
  if (s.length > width - 1) throw new Error(`tar: ${n} does not fit in ${width - 1} octal digits`);
  return s.padStart(width - 1, "0") + "\0";
}

/** A path too long for a ustar header: the install would lose the file. */
export class TarPathError extends UpdraftError {
  readonly code = "tar-path";
  override name = "TarPathError";
}

/** Split a long path into ustar's prefix (155 bytes) and name (100 bytes) at a `/`. */
export function splitPath(path: string): { prefix: string; name: string } {
  if (Buffer.byteLength(path) <= 100) return { prefix: "", name: path };
  for (let i = path.length - 1; i > 0; i--) {
    if (path[i] !== "/") continue;
    const prefix = path.slice(0, i);
    const name = path.slice(i + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(name) <= 100 && name !== "") {
      return { prefix, name };
    }
  }
  throw new TarPathError(`tar: path '${path}' is too long for ustar (name 100, prefix 155 bytes)`);
}

export function header(e: TarEntry): Buffer {
  const dir = e.data === undefined;
  const { prefix, name } = splitPath(dir ? `${e.path}/` : e.path);
  const h = Buffer.alloc(BLOCK);
  h.write(name, 0, 100, "utf8");
  h.write(octal(e.mode & 0o7777, 8), 100, "ascii");
  h.write(octal(0, 8), 108, "ascii"); // uid
  h.write(octal(0, 8), 116, "ascii"); // gid
  h.write(octal(dir ? 0 : e.data!.length, 12), 124, "ascii");
  h.write(octal(TAR_MTIME, 12), 136, "ascii");
  h.write("        ", 148, "ascii"); // checksum field counts as spaces while summing
  h.write(dir ? "5" : "0", 156, "ascii");
  h.write("ustar\0", 257, "ascii");
  h.write("00", 263, "ascii");
  h.write("root", 265, "ascii");
  h.write("root", 297, "ascii");
  h.write(prefix, 345, 155, "utf8");
  let sum = 0;
  for (const b of h) sum += b;
  h.write(octal(sum, 7) + " ", 148, "ascii");
  return h;
}

/** The whole archive: each entry's header and data padded to 512 bytes, then two zero blocks. */
export function tarChunks(entries: Iterable<TarEntry>): Buffer[] {
  const out: Buffer[] = [];
  for (const e of entries) {
    out.push(header(e));
    if (e.data !== undefined && e.data.length > 0) {
      out.push(e.data);
      const pad = (BLOCK - (e.data.length % BLOCK)) % BLOCK;
      if (pad) out.push(Buffer.alloc(pad));
    }
  }
  out.push(Buffer.alloc(BLOCK * 2));
  return out;
}
