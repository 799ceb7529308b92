/**
 * The files a job's input sandbox holds, as its ad says: the executable (unless
 * `transfer_executable = false`), standard input, `transfer_input_files`, and the job's proxy
 * (`x509userproxy`) and bearer token (`ScitokensFile`), which land in the sandbox under their own
 * file names. The submitter
 * uploads these; a pilot fetches the sandbox only when the list is not empty.
 */
import { posix } from "node:path";
import { JOB } from "../ads/names.js";
import type { ClassAd } from "../classad/index.js";

/** Paths as the submit file gave them (relative to the job's Iwd, or absolute). */
export function inputFileNames(ad: ClassAd): string[] {
  const s = (n: string) => {
    const v = ad.evaluate(n);
    return typeof v === "string" ? v : "";
  };
  const files: string[] = [];
  if (ad.evaluate(JOB.TransferExecutable) !== false && s(JOB.Cmd) !== "") files.push(s(JOB.Cmd));
  if (s(JOB.In) !== "" && s(JOB.In) !== "/dev/null") files.push(s(JOB.In));
  for (const f of s(JOB.TransferInput).split(",")) if (f.trim() !== "") files.push(f.trim());
  if (s(JOB.X509UserProxy) !== "") files.push(s(JOB.X509UserProxy));
  if (s(JOB.ScitokensFile) !== "") files.push(s(JOB.ScitokensFile));
  return [...new Set(files)];
}

/** The job's proxy's name in its sandbox (`x509userproxy`'s file name), or undefined. */
export function proxyFileName(ad: ClassAd): string | undefined {
  const v = ad.evaluate(JOB.X509UserProxy);
  return typeof v === "string" && v !== "" ? posix.basename(v) : undefined;
}

/** The job's bearer token's name in its sandbox (`ScitokensFile`'s file name), or undefined. */
export function tokenFileName(ad: ClassAd): string | undefined {
  const v = ad.evaluate(JOB.ScitokensFile);
  return typeof v === "string" && v !== "" ? posix.basename(v) : undefined;
}
