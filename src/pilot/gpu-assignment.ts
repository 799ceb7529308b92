/**
 * Which GPUs each job holds, as HTCondor's startd assigns a partitionable slot's GPUs to its
 * dynamic slots: a job asking for N GPUs gets N of the pilot's devices, the first free ones in the
 * node's order, for itself alone, and they return to the pool when it ends. Pure; the counts
 * themselves are the ledger's (ledger.ts), this only names the devices.
 *
 * Devices are named as HTCondor names CUDA devices (`CUDA0`, `CUDA1`: the nvidia-smi index, which
 * is the physical one, whatever the pilot's own CUDA_VISIBLE_DEVICES says). The job sees its
 * devices in HTCondor's variables: `_CONDOR_AssignedGPUs` (the names), `CUDA_VISIBLE_DEVICES` and
 * `GPU_DEVICE_ORDINAL` (the indices). A job without GPUs on a GPU pilot sees `10000` there, no
 * device, as HTCondor's ENVIRONMENT_VALUE_FOR_UnAssignedGPUs does, so it cannot use another job's.
 */

export interface GpuAssignment {
  /** The devices not held by any job, in the node's order. */
  free(): string[];
  /**
   * Names `count` free devices for the job. With fewer free names than asked (a site that
   * granted more GPUs than the node shows), the job gets those there are.
   */
  assign(jobId: string, count: number): string[];
  /** The job's devices go back to the pool; a job that held none is no error. */
  release(jobId: string): void;
}

export function createGpuAssignment(devices: readonly string[]): GpuAssignment {
  const held = new Map<string, readonly string[]>();
  const taken = () => new Set([...held.values()].flat());
  const free = () => {
    const t = taken();
    return devices.filter((d) => !t.has(d));
  };
  return {
    free,
    assign(jobId, count) {
      const existing = held.get(jobId);
      if (existing) return [...existing];
      const mine = count > 0 ? free().slice(0, Math.floor(count)) : [];
      if (mine.length > 0) held.set(jobId, mine);
      return [...mine];
    },
    release: (jobId) => void held.delete(jobId),
  };
}

/** HTCondor's value for a job that holds no GPU: an index no device has. */
export const UNASSIGNED_GPU_INDEX = "10000";

const CUDA_NAME = /^CUDA(\d+)$/;

/** `CUDA0,CUDA1` from what nvidia-smi lists (its indices); anything else is not a device name. */
export function gpuNamesFromIndices(indices: readonly number[]): string[] {
  return indices.filter((i) => Number.isInteger(i) && i >= 0).map((i) => `CUDA${i}`);
}

/** `CUDA0, CUDA1` as a slot ad lists them, back to names; other words are dropped. */
export function parseGpuNames(text: string | undefined): string[] {
  if (text === undefined) return [];
  return text
    .split(/[\s,]+/)
    .filter((w) => CUDA_NAME.test(w))
    .filter((w, i, all) => all.indexOf(w) === i);
}

/**
 * The variables a job gets on a pilot with `hasGpus` devices: its own devices, or none. Empty
 * on a pilot without GPUs, as a job there has nothing to be kept from.
 */
export function gpuEnvironment(
  assigned: readonly string[],
  hasGpus: boolean,
): Record<string, string> {
  if (!hasGpus) return {};
  if (assigned.length === 0) {
    return { CUDA_VISIBLE_DEVICES: UNASSIGNED_GPU_INDEX, GPU_DEVICE_ORDINAL: UNASSIGNED_GPU_INDEX };
  }
  const indices = assigned.map((n) => CUDA_NAME.exec(n)![1]!).join(",");
  return {
    _CONDOR_AssignedGPUs: assigned.join(","),
    CUDA_VISIBLE_DEVICES: indices,
    GPU_DEVICE_ORDINAL: indices,
  };
}
