/**
 * Writes fetched output files to their local paths, a chunk at a time, safely: each file goes to
 * a new private temporary file beside its target (created exclusively, so no planted link is
 * followed), is checked against its SHA-256, and only then renamed into place. No directory on
 * the way may be a symbolic link. An existing file is replaced only when it already holds the
 * same bytes or with `force`: transfer-output never overwrites a file it did not write.
 */
import { createHash, randomBytes } from "node:crypto";
import { closeSync, lstatSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from "node:fs";
import { basename, dirname, join, relative, sep } from "node:path";
import { sha256File } from "../common/bounded-read.js";

export type WriteVerdict = "written" | "unchanged" | { refused: string };

/** The first symbolic link among the existing directories from `root` down to `path`'s parent. */
export function linkOnTheWay(root: string, path: string): string | undefined {
  const rel = relative(root, dirname(path));
  const parts = rel === "" || rel.startsWith("..") ? [] : rel.split(sep);
  let at = root;
  for (const p of parts) {
    at = join(at, p);
    const st = lstatSync(at, { throwIfNoEntry: false });
    if (!st) return undefined;
    if (st.isSymbolicLink()) return at;
  }
  const parent = lstatSync(dirname(path), { throwIfNoEntry: false });
  return parent?.isSymbolicLink() ? dirname(path) : undefined;
}

/** One output file arriving in chunks. */
export class OutputFileWriter {
  private fd: number | undefined;
  private readonly temp: string;
  private readonly hash = createHash("sha256");
  private refused: string | undefined;

  constructor(
    readonly root: string,
    readonly path: string,
    readonly force: boolean,
  ) {
    this.temp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString("hex")}.partial`);
    const link = linkOnTheWay(root, path);
    if (link) {
      this.refused = `${link} is a symbolic link, which transfer-output never follows`;
      return;
    }
    mkdirSync(dirname(path), { recursive: true });
    // Exclusive create: fails on anything already there, a planted link included.
    this.fd = openSync(this.temp, "wx", 0o600);
  }

  write(data: Uint8Array): void {
    if (this.fd === undefined) return;
    writeSync(this.fd, data);
    this.hash.update(data);
  }

  /** The last chunk arrived with the file's SHA-256: verify, then put the file in place. */
  finish(sha256: string): WriteVerdict {
    if (this.refused) return { refused: this.refused };
    closeSync(this.fd!);
    this.fd = undefined;
    try {
      const got = this.hash.digest("hex");
      if (got !== sha256.toLowerCase()) return { refused: `checksum mismatch (got ${got})` };
      const existing = lstatSync(this.path, { throwIfNoEntry: false });
      if (existing && !this.force) {
        if (existing.isFile() && sha256File(this.path) === got) return "unchanged";
        return { refused: "a different file is already there; use --force to replace it" };
      }
      // rename replaces a link or file at the target itself; it never writes through a link.
      renameSync(this.temp, this.path);
      return "written";
    } finally {
      rmSync(this.temp, { force: true });
    }
  }

  /** Stop without a result (the stream ended early or failed). */
  abandon(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    rmSync(this.temp, { force: true });
  }
}
