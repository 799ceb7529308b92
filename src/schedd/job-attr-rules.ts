/**
 * Which job attributes a caller may set, in HTCondor's categories:
 * - immutable (IMMUTABLE_JOB_ATTRS, plus the schedd's own state): nobody changes them;
 * - secure (SECURE_JOB_ATTRS): who submitted the job and with what credential; only the schedd
 *   writes them, from the authenticated connection, and values a client sends are dropped, as
 *   HTCondor ignores attempts to set them;
 * - protected (PROTECTED_JOB_ATTRS, the schedd's `protected_job_attrs`): once set, only an
 *   admin changes them.
 */
import { COMMON, JOB } from "../ads/names.js";
import { quote } from "./job-status.js";

export const IMMUTABLE_JOB_ATTRS = [
  JOB.ClusterId,
  JOB.ProcId,
  JOB.Owner,
  COMMON.MyType,
  JOB.TargetType,
  JOB.JobStatus,
  JOB.QDate,
] as const;

export const SECURE_JOB_ATTRS = [
  JOB.X509UserProxySubject,
  JOB.X509UserProxyEmail,
  JOB.X509UserProxyVOName,
  JOB.X509UserProxyFirstFQAN,
  JOB.X509UserProxyFQAN,
  // Read by the schedd from the proxy it verified; a client's value would hide an expired proxy.
  JOB.X509UserProxyExpiration,
  JOB.AuthenticatedIdentity,
  JOB.AuthTokenSubject,
  JOB.AuthTokenIssuer,
  JOB.AuthTokenGroups,
  JOB.AuthTokenId,
  JOB.AuthTokenScopes,
] as const;

const lower = (names: readonly string[]) => new Set(names.map((n) => n.toLowerCase()));
const IMMUTABLE = lower(IMMUTABLE_JOB_ATTRS);
const SECURE = lower(SECURE_JOB_ATTRS);

export const isSecureJobAttr = (name: string): boolean => SECURE.has(name.toLowerCase());

/** Why `name` may not be edited by this caller, or undefined when it may. */
export function editRefusal(
  name: string,
  caller: { admin: boolean },
  protectedAttrs: ReadonlySet<string>,
  isSet: boolean,
): string | undefined {
  const n = name.toLowerCase();
  if (IMMUTABLE.has(n)) return `${name} cannot be changed`;
  if (SECURE.has(n)) return `${name} is set by the schedd from the submitter's credential`;
  if (protectedAttrs.has(n) && isSet && !caller.admin) {
    return `${name} is protected (protected_job_attrs): only an admin may change it`;
  }
  return undefined;
}

/**
 * The submitter as the job ad records it: `AuthenticatedIdentity` always, and for a certificate
 * (a slash-form DN) `x509userproxysubject`, as HTCondor does for a proxy.
 */
export function submitterAttrs(identity: string): [string, string][] {
  const out: [string, string][] = [[JOB.AuthenticatedIdentity, quote(identity)]];
  if (identity.startsWith("/")) out.push([JOB.X509UserProxySubject, quote(identity)]);
  return out;
}

export const protectedAttrSet = (names: readonly string[]): ReadonlySet<string> => lower(names);
