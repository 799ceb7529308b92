/**
 * Job sandboxes under the spool directory: `<spool>/<cluster>/<proc>/{input,output}/`. Files
 * arrive as chunks with following offsets into `<name>.partial`, and become visible only when
 * the last chunk's SHA-256 matches the whole file. Names are relative paths whose segments may not
 * be empty, `.` or `..`, and the resolved path must stay inside the sandbox, so no name escapes.
 */
import { createHash } from "node:crypto";
import {
  closeSync,
  constants,
  existsSync,
  mkdirSync,
  openSync,
  fstatSync,
  readdirSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from "node:fs";
import { join, resolve, sep } from "node:path";
import { sha256File } from "../common/bounded-read.js";
import { UpdraftError } from "../common/errors.js";

export interface SandboxLimits {
  maxFileBytes: number;
  maxSandboxBytes: number;
}

export type SandboxKind = "input" | "output";

export const CHUNK_BYTES = 256 * 1024;
const PARTIAL = ".partial";

/** Why a name is refused, or undefined if it is a safe relative path. */
export function unsafeName(name: string): string | undefined {
  if (name === "" || name.length > 1024) return "empty or too long";
  if (name.includes("\0") || name.includes("\\")) return "NUL or backslash in name";
  if (name.startsWith("/")) return "absolute path";
  const segments = name.split("/");
  if (segments.some((s) => s === "" || s === "." || s === "..")) {
    return "empty, '.' or '..' path segment";
  }
  if (name.endsWith(PARTIAL)) return `names ending in ${PARTIAL} are reserved`;
  return undefined;
}

export class SandboxError extends UpdraftError {
  constructor(
    message: string,
    readonly code: "sandbox-invalid" | "sandbox-full",
  ) {
    super(message);
  }
}

export interface Chunk {
  name: string;
  offset: number;
  data: Uint8Array;
  last: boolean;
  sha256: string;
}

export class Sandboxes {
  constructor(
    readonly spoolDir: string,
    readonly limits: SandboxLimits,
  ) {}

  dir(cluster: number, proc: number | undefined, kind: SandboxKind): string {
    return join(this.spoolDir, String(cluster), proc === undefined ? "shared" : String(proc), kind);
  }

  /**
   * Delete a job's sandbox (both kinds), or a cluster's shared one when `proc` is undefined; the
   * cluster's directory goes with its last sandbox.
   */
  drop(cluster: number, proc: number | undefined): void {
    const clusterDir = join(this.spoolDir, String(cluster));
    rmSync(join(clusterDir, proc === undefined ? "shared" : String(proc)), {
      recursive: true,
      force: true,
    });
    if (existsSync(clusterDir) && readdirSync(clusterDir).length === 0) {
      rmSync(clusterDir, { recursive: true, force: true });
    }
  }

  private pathIn(dir: string, name: string): string {
    const why = unsafeName(name);
    if (why) throw new SandboxError(`file name '${name}' refused: ${why}`, "sandbox-invalid");
    const full = resolve(dir, name);
    if (!full.startsWith(resolve(dir) + sep)) {
      throw new SandboxError(`file name '${name}' leaves the sandbox`, "sandbox-invalid");
    }
    return full;
  }

  /**
   * Take one chunk; returns true when the file is complete and verified. `admit` sees the chunk's
   * size once the sandbox's own limits passed and may refuse it (the owner's spool quota) by
   * throwing; the partial file is then deleted, as for every refusal.
   */
  receive(dir: string, c: Chunk, admit?: (bytes: number) => void): boolean {
    const final = this.pathIn(dir, c.name);
    const partial = final + PARTIAL;
    // Private to the schedd's user: inputs may hold a job's credentials (its proxy, its token).
    mkdirSync(join(final, ".."), { recursive: true, mode: 0o700 });
    const have = c.offset === 0 ? 0 : existsSync(partial) ? statSync(partial).size : -1;
    if (have !== c.offset) {
      throw new SandboxError(
        `chunk of '${c.name}' at offset ${c.offset}, expected ${Math.max(have, 0)}`,
        "sandbox-invalid",
      );
    }
    const size = c.offset + c.data.length;
    if (size > this.limits.maxFileBytes) {
      rmSync(partial, { force: true });
      throw new SandboxError(
        `'${c.name}' exceeds the file limit of ${this.limits.maxFileBytes} bytes`,
        "sandbox-full",
      );
    }
    if (this.usedBytes(dir) + c.data.length > this.limits.maxSandboxBytes) {
      rmSync(partial, { force: true });
      throw new SandboxError(
        `sandbox limit of ${this.limits.maxSandboxBytes} bytes reached`,
        "sandbox-full",
      );
    }
    if (admit) {
      try {
        admit(c.data.length);
      } catch (err) {
        rmSync(partial, { force: true });
        throw err;
      }
    }
    const fd = openSync(partial, c.offset === 0 ? "w" : "a", 0o600);
    let written: number;
    try {
      written = writeSync(fd, c.data);
    } finally {
      closeSync(fd);
    }
    if (written !== c.data.length) {
      rmSync(partial, { force: true });
      throw new SandboxError(`'${c.name}' was written short (disk full?)`, "sandbox-full");
    }
    if (!c.last) return false;
    // A file sent whole in one chunk (most outputs) is hashed from that chunk, the bytes just
    // written, instead of read back; a file of several chunks is read back from its partial.
    const digest =
      c.offset === 0 ? createHash("sha256").update(c.data).digest("hex") : sha256File(partial);
    if (digest !== c.sha256.toLowerCase()) {
      rmSync(partial, { force: true });
      throw new SandboxError(
        `checksum mismatch for '${c.name}': got ${digest}, sent ${c.sha256}`,
        "sandbox-invalid",
      );
    }
    renameSync(partial, final);
    return true;
  }

  /**
   * Put a whole small file (a job's renewed proxy) in place at once: written private beside it,
   * then renamed over it, so a reader sees the old file or the new one, never half of one.
   */
  replace(dir: string, name: string, data: Uint8Array): void {
    const final = this.pathIn(dir, name);
    const partial = final + PARTIAL;
    mkdirSync(join(final, ".."), { recursive: true, mode: 0o700 });
    const fd = openSync(partial, "w", 0o600);
    try {
      writeSync(fd, data);
    } finally {
      closeSync(fd);
    }
    renameSync(partial, final);
  }

  usedBytes(dir: string): number {
    return this.list(dir, true).reduce((n, f) => n + statSync(join(dir, f)).size, 0);
  }

  /** Complete files (relative names), sorted. */
  list(dir: string, includePartial = false): string[] {
    if (!existsSync(dir)) return [];
    const out: string[] = [];
    const walk = (rel: string): void => {
      for (const e of readdirSync(join(dir, rel), { withFileTypes: true })) {
        const name = rel === "" ? e.name : `${rel}/${e.name}`;
        if (e.isDirectory()) walk(name);
        else if (e.isFile() && (includePartial || !e.name.endsWith(PARTIAL))) out.push(name);
      }
    };
    walk("");
    return out.sort();
  }

  /** Every file of the given directories as chunks, with each file's SHA-256 on its last. */
  *chunks(dirs: readonly string[]): Generator<Chunk> {
    for (const dir of dirs) {
      for (const name of this.list(dir)) {
        // Read a chunk at a time, never the whole file; the hash goes out with the last chunk.
        const fd = openSync(this.pathIn(dir, name), constants.O_RDONLY | constants.O_NOFOLLOW);
        try {
          const size = fstatSync(fd).size;
          const hash = createHash("sha256");
          let offset = 0;
          for (;;) {
            const data = Buffer.alloc(Math.min(CHUNK_BYTES, size - offset));
            const n = data.length === 0 ? 0 : readSync(fd, data, 0, data.length, offset);
            const part = data.subarray(0, n);
            hash.update(part);
            const last = n === 0 || offset + n >= size;
            yield { name, offset, data: part, last, sha256: last ? hash.digest("hex") : "" };
            offset += n;
            if (last) break;
          }
        } finally {
          closeSync(fd);
        }
      }
    }
  }
}
