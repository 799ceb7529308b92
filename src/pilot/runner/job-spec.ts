/**
 * From a job ad to what the runner needs, pure. Attribute names follow HTCondor's job ad
 * (`Cmd`, `Arguments`, `Environment`, `In`, `Out`, `Err`, `RequestMemory`...).
 */
import { basename, isAbsolute, join } from "node:path";
import type { ClassAd } from "../../classad/index.js";
import { jobRequests } from "../../ads/job-requests.js";
import { JOB } from "../../ads/names.js";
import { proxyFileName, tokenFileName } from "../../schedd/input-files.js";
import type { Resources } from "../ledger.js";
import { parseEnvironmentV2, splitV2 } from "./arguments.js";

export interface JobSpec {
  jobId: string;
  sandboxDir: string;
  executable: string;
  args: string[];
  env: Record<string, string>;
  /** Paths inside the sandbox (or absolute); stdin absent means /dev/null. */
  stdin?: string;
  stdout: string;
  stderr: string;
  /** The job's own credential file (its `x509userproxy`), exported as X509_USER_PROXY. */
  credentialFile?: string;
  /** The job's own bearer token file (its `ScitokensFile`), exported as BEARER_TOKEN_FILE. */
  tokenFile?: string;
  /** The job's own walltime limit; exceeding it is the job's fault (hold). */
  walltimeS?: number;
  /**
   * When the pilot itself must be gone: a backstop behind the main loop's graceful stop, ending
   * the job as a pilot stop (lease released) rather than as the job's fault.
   */
  pilotDeadlineS?: number;
  memoryLimitMb?: number;
}

/** `holdCode`: HTCondor's code when the job itself is at fault (7: cannot open its output). */
export type SpecResult =
  { ok: true; spec: JobSpec } | { ok: false; message: string; holdCode?: number };

/** Why a stdout/stderr name may not be used, or undefined: relative, no `..`, or /dev/null. */
export function unsafeStreamName(name: string): string | undefined {
  if (name === "/dev/null") return undefined;
  if (isAbsolute(name)) return "an absolute path would put it outside the job's sandbox";
  if (name.split("/").some((s) => s === "..")) return "'..' would put it outside the sandbox";
  if (name.includes("\0")) return "NUL in name";
  return undefined;
}

/** What a job asks of the partitionable slot (the schedd reads it the same way). */
export function requestOf(ad: ClassAd): Resources {
  return jobRequests(ad);
}

/** The job's own walltime: `MaxWallTimeMins` (CMS style) or `MaxWallTime` seconds. */
export function jobWalltimeS(ad: ClassAd): number | undefined {
  const mins = ad.getInteger("MaxWallTimeMins");
  if (mins !== undefined) return mins * 60;
  return ad.getInteger("MaxWallTime") ?? ad.getInteger("JobMaxWallTime");
}

export function jobSpecFromAd(
  jobId: string,
  ad: ClassAd,
  sandboxDir: string,
  opts: { remainingLifetimeS?: number; credentialFile?: string } = {},
): SpecResult {
  const cmd = ad.getString(JOB.Cmd);
  if (!cmd) return { ok: false, message: "job ad has no Cmd" };
  const args = splitV2(ad.getString(JOB.Arguments) ?? "");
  if (!args.ok) return { ok: false, message: `Arguments: ${args.message}` };
  const env = parseEnvironmentV2(ad.getString(JOB.Environment) ?? "");
  if (!env.ok) return { ok: false, message: `Environment: ${env.message}` };
  for (const attr of [JOB.Out, JOB.Err]) {
    const name = ad.getString(attr);
    const why = name ? unsafeStreamName(name) : undefined;
    if (why) return { ok: false, message: `${attr} '${name}' refused: ${why}`, holdCode: 7 };
  }
  // Only /dev/null may be absolute here (checked above); it discards the stream.
  const inSandbox = (p: string | undefined, dflt: string) => {
    const f = p || dflt;
    return f === "/dev/null" ? f : join(sandboxDir, f);
  };
  const stdinName = ad.getString(JOB.In);
  // A staged executable runs as the sandbox copy whose hash was checked, never the submit
  // host's path; `transfer_executable = false` names a program already on the worker node.
  const staged = ad.evaluate(JOB.TransferExecutable) !== false;
  // The proxy the user sent with the job (`x509userproxy`) arrives with its inputs.
  const proxy = proxyFileName(ad);
  const token = tokenFileName(ad);
  return {
    ok: true,
    spec: {
      jobId,
      sandboxDir,
      executable: staged
        ? join(sandboxDir, basename(cmd))
        : isAbsolute(cmd)
          ? cmd
          : join(sandboxDir, cmd),
      args: args.words,
      env: env.env,
      stdin:
        stdinName && stdinName !== "/dev/null" ? join(sandboxDir, basename(stdinName)) : undefined,
      stdout: inSandbox(ad.getString(JOB.Out), "_condor_stdout"),
      stderr: inSandbox(ad.getString(JOB.Err), "_condor_stderr"),
      credentialFile: opts.credentialFile ?? (proxy && join(sandboxDir, proxy)),
      tokenFile: token && join(sandboxDir, token),
      walltimeS: jobWalltimeS(ad),
      pilotDeadlineS: opts.remainingLifetimeS,
      memoryLimitMb: ad.getInteger(JOB.RequestMemory),
    },
  };
}
