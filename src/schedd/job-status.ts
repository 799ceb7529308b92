/** HTCondor's JobStatus codes and the job-attribute helpers every schedd module shares. */

export const JobStatus = {
  Idle: 1,
  Running: 2,
  Removed: 3,
  Completed: 4,
  Held: 5,
  TransferringOutput: 6,
  Suspended: 7,
} as const;
export type JobStatusCode = (typeof JobStatus)[keyof typeof JobStatus];

/** Completed and Removed jobs leave the queue for history. */
export function isFinished(status: number): boolean {
  return status === JobStatus.Completed || status === JobStatus.Removed;
}

/** HTCondor's HoldReasonCode values used here. */
export const HoldCode = {
  Unspecified: 0,
  UserRequest: 1,
  JobPolicy: 3,
  /** HTCondor's CorruptedCredential: its starter holds a job whose proxy is about to expire. */
  CorruptedCredential: 4,
  /** A periodic expression could not be evaluated (here: it met an evaluation bound). */
  JobPolicyUndefined: 5,
  FailedToCreateProcess: 6,
  UnableToOpenOutput: 7,
  UnableToOpenInput: 8,
  TransferInputError: 13,
  SpoolingInput: 16,
} as const;

/** A job ad as stored and sent: attribute name (as spelled) -> expression text (new syntax). */
export type JobAttrs = Record<string, string>;

/** `cluster.proc` */
export type JobId = string;

export function jobId(cluster: number, proc: number): JobId {
  return `${cluster}.${proc}`;
}

/** Parse `12.3` (a job) or `12` (a cluster, proc undefined); undefined if malformed. */
export function parseJobId(text: string): { cluster: number; proc?: number } | undefined {
  const m = /^(\d+)(?:\.(\d+))?$/.exec(text.trim());
  if (!m) return undefined;
  return { cluster: Number(m[1]), proc: m[2] === undefined ? undefined : Number(m[2]) };
}

const lowered = new Map<string, string>();

/** `name.toLowerCase()`, memoised: the same few dozen attribute names recur in every job. */
export function lowerName(name: string): string {
  let l = lowered.get(name);
  if (l === undefined) {
    l = name.toLowerCase();
    if (lowered.size > 10_000) lowered.clear();
    lowered.set(name, l);
  }
  return l;
}

/** The key under which `name` is spelled in `attrs` (names are case-insensitive). */
export function attrKey(attrs: JobAttrs, name: string): string | undefined {
  if (Object.hasOwn(attrs, name)) return name;
  const length = name.length;
  for (const k in attrs) if (k.length === length && sameNameIgnoringCase(k, name)) return k;
  return undefined;
}

/**
 * Case-insensitive equality of two names of the same length, as their lower-case forms compare.
 * ASCII is folded in place: claims and completions ask for absent names (new attributes) often,
 * and each such question compares against every name of the job.
 */
function sameNameIgnoringCase(a: string, b: string): boolean {
  for (let i = 0; i < a.length; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 128 || y >= 128) return lowerName(a) === lowerName(b);
    const lx = x | 0x20;
    if (lx !== (y | 0x20) || lx < 97 || lx > 122) return false;
  }
  return true;
}

export function getAttr(attrs: JobAttrs, name: string): string | undefined {
  const k = attrKey(attrs, name);
  return k === undefined ? undefined : attrs[k];
}

/** Set an attribute keeping an existing spelling. */
export function setAttr(attrs: JobAttrs, name: string, text: string): void {
  attrs[attrKey(attrs, name) ?? name] = text;
}

export function deleteAttr(attrs: JobAttrs, name: string): void {
  const k = attrKey(attrs, name);
  if (k !== undefined) delete attrs[k];
}

/** A string literal in ClassAd syntax. */
export function quote(s: string): string {
  return `"${s.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}

/** Numeric value of an attribute holding a plain number literal, else `fallback`. */
export function numAttr(attrs: JobAttrs, name: string, fallback = 0): number {
  const t = getAttr(attrs, name);
  if (t === undefined) return fallback;
  const n = Number(t);
  return Number.isFinite(n) ? n : fallback;
}
