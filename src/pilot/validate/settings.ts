import type { HookFile } from "./check-job-hooks.js";
import type { ScriptRef } from "./check-scripts.js";

/** What validation is asked to check, from the command line, the entry and the frontend. */
export interface ValidationSettings {
  /** MIN_DISK_GBS: free space needed in the work directory. */
  minDiskGb?: number;
  /** Free space needed in /tmp, MB. */
  minTmpMb?: number;
  /** Memory the pilot needs at least, MB. */
  minMemoryMb?: number;
  /** CVMFS repositories to look for, e.g. "oasis.opensciencegrid.org". */
  cvmfsRepos?: string[];
  /** Fail when a listed repository is missing rather than only publishing false. */
  cvmfsRequired?: boolean;
  singularityRequired?: boolean;
  /** Pilot credential file and the seconds it must stay valid. */
  credentialFile?: string;
  /** The credential's text when the pilot already holds it (its file may be gone). */
  credentialPem?: string;
  credentialMinS?: number;
  /**
   * The pilot can get its token or per-pilot proxy renewed (it reports to a collector): the
   * binding's `renew_until`, not the credential's end, must then cover `credentialMinS`.
   */
  credentialRenewable?: boolean;
  /** URLs to test reachability of (collector, schedds); none means no network check. */
  urls?: string[];
  /**
   * Sets of URLs of which one reachable is enough: the collectors of a highly available pool,
   * where the pilot advertises to whichever is up.
   */
  urlsOneOf?: string[][];
  connectTimeoutMs?: number;
  scripts?: ScriptRef[];
  scriptTimeoutMs?: number;
  /** The job wrapper and pre/post-job scripts to check (see check-job-hooks.ts). */
  jobHooks?: HookFile[];
}
