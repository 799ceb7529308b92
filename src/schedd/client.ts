/** Typed calls to a schedd over an RpcClient: for the CLI, pilots, frontends, tests and benches. */
import type { CallOptions, RpcClient, WireClassAd } from "../wire/index.js";
import type { JobAttrs } from "./job-status.js";
import {
  SCHEDD_METHODS as M,
  type FileChunk,
  type JobCompletion,
  type JobQuery,
  type JobSelection,
} from "./messages.js";

export type ScheddClient = ReturnType<typeof scheddClient>;

/** A completion's fields other than the lease, as a plain exit 0 reports them. */
export const NO_EXIT: Omit<JobCompletion, "leaseId"> = {
  exitBySignal: false,
  exitCode: 0,
  exitSignal: 0,
  cpuUserSeconds: 0,
  cpuSysSeconds: 0,
  outputs: [],
  holdReason: "",
  holdCode: 0,
  holdSubcode: 0,
};

export function scheddClient(rpc: RpcClient) {
  const u = <K extends keyof typeof M>(k: K, idempotent = false) =>
    rpc.unaryMethod(M[k].name, {
      request: M[k].request,
      response: M[k].response,
      idempotent,
    } as never) as unknown as (
      req: Parameters<(typeof M)[K]["request"]["encode"]>[0],
      o?: CallOptions,
    ) => Promise<ReturnType<(typeof M)[K]["response"]["decode"]>>;
  const newCluster = u("newCluster");
  const submitJobs = u("submitJobs");
  const act = u("act");
  const editJobs = u("edit");
  const query = rpc.streamMethod(M.query.name, M.query);
  const fetchOutput = rpc.streamMethod(M.fetchOutput.name, M.fetchOutput);
  const fetchInput = rpc.streamMethod(M.fetchInput.name, M.fetchInput);
  const sel = (s: Partial<JobSelection>): JobSelection => ({
    ids: s.ids ?? [],
    constraint: s.constraint ?? "",
    owner: s.owner ?? "",
  });
  return {
    rpc,
    newCluster: async () => (await newCluster({})).clusterId,
    submitJobs: (
      clusterId: number,
      jobs: JobAttrs[],
      o?: CallOptions & { holdForInput?: boolean },
    ) =>
      submitJobs(
        {
          clusterId,
          jobs: jobs.map((attrs) => ({ attrs })),
          holdForInput: o?.holdForInput ?? false,
        },
        o,
      ),
    async query(q: Partial<JobQuery> = {}, o?: CallOptions): Promise<JobAttrs[]> {
      const out: JobAttrs[] = [];
      const req: JobQuery = {
        constraint: q.constraint ?? "",
        projection: q.projection ?? [],
        limit: q.limit ?? 0,
        history: q.history ?? false,
        ids: q.ids ?? [],
        owner: q.owner ?? "",
        mine: q.mine ?? false,
      };
      for await (const ad of query(req, o)) out.push(ad.attrs);
      return out;
    },
    act: (action: "remove" | "hold" | "release", s: Partial<JobSelection>, reason = "") =>
      act({ action, selection: sel(s), reason }),
    edit: (s: Partial<JobSelection>, attribute: string, value: string) =>
      editJobs({ selection: sel(s), attribute, value }),
    /**
     * `more.slotNumber`: N of the dynamic slot `slot1_N` the (first) job will run in (its
     * RemoteHost); `more.maxJobs`: jobs to take at once; `more.completions`: ended jobs'
     * completions to report with the claim (answered in the reply's `completions` by a schedd
     * that takes them).
     */
    claimJob: (
      slot: JobAttrs,
      waitSeconds = 0,
      o?: CallOptions,
      more: { slotNumber?: number; maxJobs?: number; completions?: JobCompletion[] } = {},
    ) =>
      u("claimJob")(
        {
          slot: { attrs: slot },
          waitSeconds,
          slotNumber: more.slotNumber ?? 0,
          maxJobs: more.maxJobs ?? 0,
          completions: more.completions ?? [],
        },
        o,
      ),
    heartbeat: (leaseId: string) => u("heartbeat")({ leaseId }),
    completeJob: (c: Partial<JobCompletion> & { leaseId: string }) =>
      u("completeJob")({ ...NO_EXIT, ...c }),
    releaseLease: (leaseId: string, reason: string, opts: { inputTransferFailed?: boolean } = {}) =>
      u("releaseLease")({
        leaseId,
        reason,
        inputTransferFailed: opts.inputTransferFailed ?? false,
      }),
    idleSummary: (constraint: string, matchAttributes: string[], o?: CallOptions) =>
      u("idleSummary", true)({ constraint, matchAttributes }, o),
    putInput: (c: FileChunk) => u("putInput")(c),
    putOutput: (c: FileChunk) => u("putOutput")(c),
    fetchInput: (leaseId: string) => fetchInput({ leaseId, jobId: "" }),
    fetchOutput: (jobId: string) => fetchOutput({ leaseId: "", jobId }),
    refreshProxy: (jobId: string, proxy: Uint8Array) => u("refreshProxy")({ jobId, proxy }),
    fetchProxy: (leaseId: string) => u("fetchProxy")({ leaseId }),
  };
}

export type { WireClassAd };
