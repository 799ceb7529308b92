/** Typed payloads and codecs of the schedd's RPCs (messages in src/wire/updraft.proto). */
import { messageCodec, messageType, type Codec, type WireClassAd } from "../wire/index.js";

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
export type SlotOffer = { slot: WireClassAd; waitSeconds: number };
export type JobOffer = {
  matched: boolean;
  jobId: string;
  job?: WireClassAd;
  leaseId: string;
  leaseExpiresMs: number;
  /** The schedd's clock when it answered (0 from a schedd that does not say). */
  nowMs?: number;
};
export type LeaseRef = { leaseId: string };
export type HeartbeatReply = {
  action: string;
  leaseExpiresMs: number;
  reason: string;
  nowMs?: number;
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

/** Every schedd method: name, payload codecs. Shared by the service and its clients. */
export const SCHEDD_METHODS = {
  newCluster: {
    name: "schedd.NewCluster",
    request: messageCodec<Record<string, never>>("Empty"),
    response: messageCodec<ClusterReservation>("ClusterReservation"),
  },
  submitJobs: {
    name: "schedd.SubmitJobs",
    request: submissionCodec(),
    response: messageCodec<SubmitReceipt>("SubmitReceipt"),
  },
  query: {
    name: "schedd.Query",
    request: messageCodec<JobQuery>("JobQuery"),
    response: messageCodec<WireClassAd>("ClassAd"),
  },
  act: {
    name: "schedd.Act",
    request: messageCodec<JobAction>("JobAction"),
    response: messageCodec<ActionOutcome>("ActionOutcome"),
  },
  edit: {
    name: "schedd.Edit",
    request: messageCodec<JobEdit>("JobEdit"),
    response: messageCodec<ActionOutcome>("ActionOutcome"),
  },
  claimJob: {
    name: "schedd.ClaimJob",
    request: messageCodec<SlotOffer>("SlotOffer"),
    response: messageCodec<JobOffer>("JobOffer"),
  },
  heartbeat: {
    name: "schedd.Heartbeat",
    request: messageCodec<LeaseRef>("LeaseRef"),
    response: messageCodec<HeartbeatReply>("HeartbeatReply"),
  },
  completeJob: {
    name: "schedd.CompleteJob",
    request: messageCodec<JobCompletion>("JobCompletion"),
    response: messageCodec<CompletionReceipt>("CompletionReceipt"),
  },
  releaseLease: {
    name: "schedd.ReleaseLease",
    request: messageCodec<LeaseRelease>("LeaseRelease"),
    response: messageCodec<ReleaseReceipt>("ReleaseReceipt"),
  },
  idleSummary: {
    name: "schedd.IdleSummary",
    request: messageCodec<IdleSummaryQuery>("IdleSummaryQuery"),
    response: messageCodec<IdleSummary>("IdleSummary"),
  },
  putInput: {
    name: "schedd.PutInput",
    request: messageCodec<FileChunk>("FileChunk"),
    response: messageCodec<Record<string, never>>("Empty"),
  },
  putOutput: {
    name: "schedd.PutOutput",
    request: messageCodec<FileChunk>("FileChunk"),
    response: messageCodec<Record<string, never>>("Empty"),
  },
  fetchInput: {
    name: "schedd.FetchInput",
    request: messageCodec<SandboxRequest>("SandboxRequest"),
    response: messageCodec<FileChunk>("FileChunk"),
  },
  fetchOutput: {
    name: "schedd.FetchOutput",
    request: messageCodec<SandboxRequest>("SandboxRequest"),
    response: messageCodec<FileChunk>("FileChunk"),
  },
} as const;
