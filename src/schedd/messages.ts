/** Typed payloads and codecs of the schedd's RPCs (messages in src/wire/updraft.proto). */
import { messageCodec, messageType, type Codec, type WireClassAd } from "../wire/schema.js";

export type ClusterReservation = { clusterId: number };
export type JobSubmission = { clusterId: number; jobs: WireClassAd[]; holdForInput: boolean };
export type SubmitReceipt = { clusterId: number; count: number };
export type JobQuery = {
  constraint: string;
  projection: string[];
  limit: number;
  history: boolean;
  ids: string[];
  owner: string;
  mine: boolean;
};
export type JobSelection = { ids: string[]; constraint: string; owner: string };
export type JobAction = { action: string; selection: JobSelection; reason: string };
export type ActionOutcome = { done: string[]; refused: { id: string; reason: string }[] };
export type JobEdit = { selection: JobSelection; attribute: string; value: string };
export type SlotOffer = {
  slot: WireClassAd;
  waitSeconds: number;
  slotNumber?: number;
  /** Jobs to take in this call; 0 or absent reads as 1 (and a schedd before it sends one). */
  maxJobs?: number;
  /** Ended jobs' completions, answered in JobOffer.completions by a schedd that takes them. */
  completions?: JobCompletion[];
};
export type JobOffer = {
  matched: boolean;
  jobId: string;
  job?: WireClassAd;
  leaseId: string;
  leaseExpiresMs: number;
  /** The schedd's clock when it answered (0 from a schedd that does not say). */
  nowMs?: number;
  /** The jobs after the first, for a claim of several. */
  moreJobs?: JobOffer[];
  /** One per SlotOffer.completions; empty from a schedd that does not take them. */
  completions?: CompletionAnswer[];
};
/** A completion sent with a claim: the job's status, or CompleteJob's error for it. */
export type CompletionAnswer = {
  jobStatus: number;
  error?: { code: string; message: string; details: Record<string, string> };
};
export type LeaseRef = { leaseId: string };
export type HeartbeatReply = {
  action: string;
  leaseExpiresMs: number;
  reason: string;
  nowMs?: number;
  /** The job's x509UserProxyExpiration (Unix seconds), 0 when it has no proxy. */
  proxyExpiration?: number;
};
export type LeaseRelease = { leaseId: string; reason: string; inputTransferFailed?: boolean };
export type ReleaseReceipt = { jobStatus: number };
export type OutputFile = { name: string; size: number; sha256: string };
export type JobCompletion = {
  leaseId: string;
  exitBySignal: boolean;
  exitCode: number;
  exitSignal: number;
  cpuUserSeconds: number;
  cpuSysSeconds: number;
  outputs: OutputFile[];
  holdReason: string;
  holdCode: number;
  holdSubcode: number;
};
export type CompletionReceipt = { jobStatus: number };
export type IdleSummaryQuery = { constraint: string; matchAttributes: string[] };
export type IdleGroup = {
  count: number;
  owners: Record<string, number>;
  representative: WireClassAd;
};
export type IdleSummary = {
  groups: IdleGroup[];
  runningByEntry: Record<string, number>;
  idleTotal: number;
};
export type FileChunk = {
  name: string;
  offset: number;
  data: Uint8Array;
  last: boolean;
  sha256: string;
  leaseId: string;
  jobId: string;
};
export type SandboxRequest = { leaseId: string; jobId: string };
export type ProxyRefresh = { jobId: string; proxy: Uint8Array };
export type JobProxyFile = { proxy: Uint8Array; expiration: number };

function toNumber(v: unknown): number {
  if (typeof v === "number") return v;
  if (v && typeof v === "object" && "toNumber" in v)
    return (v as { toNumber(): number }).toNumber();
  return Number(v ?? 0);
}

/**
 * JobSubmission carries whole clusters (100,000 jobs, tens of MB): encoded from and decoded to
 * plain objects directly, skipping the generic codec's fromObject/toObject copies of every job.
 */
function submissionCodec(): Codec<JobSubmission> {
  const type = messageType("JobSubmission");
  return {
    encode: (v) => type.encode(v).finish(),
    decode: (bytes) => {
      const m = type.decode(bytes) as unknown as {
        clusterId?: unknown;
        jobs?: { attrs?: Record<string, string> }[];
        holdForInput?: boolean;
      };
      return {
        clusterId: toNumber(m.clusterId),
        jobs: (m.jobs ?? []).map((j) => ({ attrs: j.attrs ?? {} })),
        holdForInput: m.holdForInput === true,
      };
    },
  };
}

type Empty = Record<string, never>;

/** `schedd.<name>` with its request and response messages (names in updraft.proto). */
function method<Req extends object, Res extends object>(
  name: string,
  request: string | Codec<Req>,
  response: string,
) {
  return {
    name: `schedd.${name}`,
    request: typeof request === "string" ? messageCodec<Req>(request) : request,
    response: messageCodec<Res>(response),
  };
}

/** Every schedd method: name, payload codecs. Shared by the service and its clients. */
export const SCHEDD_METHODS = {
  newCluster: method<Empty, ClusterReservation>("NewCluster", "Empty", "ClusterReservation"),
  submitJobs: method<JobSubmission, SubmitReceipt>(
    "SubmitJobs",
    submissionCodec(),
    "SubmitReceipt",
  ),
  query: method<JobQuery, WireClassAd>("Query", "JobQuery", "ClassAd"),
  act: method<JobAction, ActionOutcome>("Act", "JobAction", "ActionOutcome"),
  edit: method<JobEdit, ActionOutcome>("Edit", "JobEdit", "ActionOutcome"),
  claimJob: method<SlotOffer, JobOffer>("ClaimJob", "SlotOffer", "JobOffer"),
  heartbeat: method<LeaseRef, HeartbeatReply>("Heartbeat", "LeaseRef", "HeartbeatReply"),
  completeJob: method<JobCompletion, CompletionReceipt>(
    "CompleteJob",
    "JobCompletion",
    "CompletionReceipt",
  ),
  releaseLease: method<LeaseRelease, ReleaseReceipt>(
    "ReleaseLease",
    "LeaseRelease",
    "ReleaseReceipt",
  ),
  idleSummary: method<IdleSummaryQuery, IdleSummary>(
    "IdleSummary",
    "IdleSummaryQuery",
    "IdleSummary",
  ),
  putInput: method<FileChunk, Empty>("PutInput", "FileChunk", "Empty"),
  putOutput: method<FileChunk, Empty>("PutOutput", "FileChunk", "Empty"),
  fetchInput: method<SandboxRequest, FileChunk>("FetchInput", "SandboxRequest", "FileChunk"),
  fetchOutput: method<SandboxRequest, FileChunk>("FetchOutput", "SandboxRequest", "FileChunk"),
  refreshProxy: method<ProxyRefresh, ActionOutcome>(
    "RefreshProxy",
    "ProxyRefresh",
    "ActionOutcome",
  ),
  fetchProxy: method<LeaseRef, JobProxyFile>("FetchProxy", "LeaseRef", "JobProxyFile"),
} as const;
