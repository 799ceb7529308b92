/**
 * The job wrapper and pre/post-job scripts the pilot was given must be there, executable and, when
 * a hash is given (the staging manifest's), the very bytes staged: checked before the first
 * claim, so a bad hook ends the pilot with a class naming the file instead of holding jobs.
 */
import { accessSync, constants, statSync } from "node:fs";
import { sha256Bounded } from "../../common/bounded-read.js";
import { fail, pass, type CheckResult } from "../failure.js";

export interface HookFile {
  /** "job wrapper", "pre-job script", "post-job script": how messages name it. */
  role: string;
  path: string;
  /** Expected SHA-256 (hex); unchecked when absent. */
  sha256?: string;
}

/** Largest hook read to hash: a wrapper is a script, not a payload. */
const MAX_HOOK_BYTES = 16 * 1024 * 1024;

export function checkJobHooks(files: readonly HookFile[]): CheckResult {
  for (const f of files) {
    let size: number;
    try {
      const st = statSync(f.path);
      if (!st.isFile()) return fail("Config", `${f.role} ${f.path} is not a regular file`);
      size = st.size;
    } catch {
      return fail("Config", `${f.role} ${f.path} does not exist`);
    }
    try {
      accessSync(f.path, constants.X_OK);
    } catch {
      return fail("Config", `${f.role} ${f.path} is not executable`);
    }
    if (f.sha256 !== undefined) {
      if (size > MAX_HOOK_BYTES) {
        return fail("Corruption", `${f.role} ${f.path} is ${size} bytes, larger than any hook`);
      }
      const bad = hashMismatch(f.path, f.sha256);
      if (bad) return fail("Corruption", `${f.role} ${bad}`);
    }
  }
  return pass();
}

/**
 * Why the file at `path` is not the one hashed `sha256`, or undefined when it is. Checked right
 * before a VO script runs, since anything sharing the pilot's user (its jobs included) could have
 * replaced the file since the bundle was checked.
 */
export function hashMismatch(path: string, sha256: string): string | undefined {
  let got: string | undefined;
  try {
    // Streamed, and bounded by what is read rather than by a size seen before the read: the
    // file may grow (or be a device) between a stat and the read.
    got = sha256Bounded(path, MAX_HOOK_BYTES);
  } catch (err) {
    return `${path} cannot be read: ${(err as Error).message}`;
  }
  if (got === undefined)
    return `${path} is larger than ${MAX_HOOK_BYTES} bytes, larger than any script`;
  return got === sha256.toLowerCase()
    ? undefined
    : `${path} has SHA-256 ${got}, expected ${sha256}`;
}
