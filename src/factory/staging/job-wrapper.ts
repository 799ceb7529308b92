/**
 * An entry's staged job wrapper as bootstrap options: each named file must be in the staging
 * area, and goes on the command line with the SHA-256 its manifest lists, so the pilot checks it
 * holds exactly those bytes before its first claim. Pure.
 */
import type { ManifestFile } from "./manifest.js";

export interface StagedJobWrapper {
  file?: string;
  pre_job?: string;
  post_job?: string;
  timeout_s: number;
}

const ROLES = [
  ["file", "--job-wrapper"],
  ["pre_job", "--pre-job"],
  ["post_job", "--post-job"],
] as const;

/** The bootstrap options for `w`, or why the staging area cannot serve it. */
export function jobWrapperArgs(
  w: StagedJobWrapper,
  files: readonly ManifestFile[],
): { ok: true; args: string[] } | { ok: false; missing: string } {
  const args: string[] = [];
  for (const [key, option] of ROLES) {
    const path = w[key];
    if (path === undefined) continue;
    const staged = files.find((f) => f.path === path);
    if (!staged) return { ok: false, missing: path };
    args.push(option, path, `${option}-sha256`, staged.sha256);
  }
  if (w.pre_job !== undefined || w.post_job !== undefined) {
    args.push("--hook-timeout", String(w.timeout_s));
  }
  return { ok: true, args };
}
