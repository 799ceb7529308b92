/**
 * Which GPUs each job holds, as HTCondor's startd assigns a partitionable slot's GPUs to its
 * dynamic slots: a job asking for N GPUs gets N of the pilot's devices, the first free ones in the
 * node's order, for itself alone, and they return to the pool when it ends. Pure; the counts
 * themselves are the ledger's (ledger.ts), this only names the devices.
 *
 * Devices are named by index as HTCondor's condor_gpu_discovery names them: NVIDIA devices
 * `CUDA0`, `CUDA1` (the nvidia-smi index, which is the physical one, whatever the pilot's own
 * CUDA_VISIBLE_DEVICES says), AMD devices found through ROCm `GPU0`, `GPU1` (its prefix for HIP
 * devices; the rocm-smi card index). The job sees its devices in HTCondor's variables:
 * `_CONDOR_AssignedGPUs` (the names) and `GPU_DEVICE_ORDINAL` (the indices), with
 * `CUDA_VISIBLE_DEVICES` for NVIDIA and `HIP_VISIBLE_DEVICES` for AMD (not both: the HIP runtime
 * reads CUDA_VISIBLE_DEVICES too). A job without GPUs on a GPU pilot sees `10000` in all three, no
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

/** `CUDA<n>` (NVIDIA) or `GPU<n>` (AMD, through ROCm): prefix and index. */
const DEVICE_NAME = /^(CUDA|GPU)(\d+)$/;

export type GpuVendor = "nvidia" | "amd";
const PREFIX: Record<GpuVendor, string> = { nvidia: "CUDA", amd: "GPU" };

/** `CUDA0,CUDA1` from nvidia-smi's indices (`GPU0`... from rocm-smi's); others are dropped. */
export function gpuNamesFromIndices(
  indices: readonly number[],
  vendor: GpuVendor = "nvidia",
): string[] {
  return indices.filter((i) => Number.isInteger(i) && i >= 0).map((i) => `${PREFIX[vendor]}${i}`);
}

/** `CUDA0, CUDA1` as a slot ad lists them, back to names; other words are dropped. */
export function parseGpuNames(text: string | undefined): string[] {
  if (text === undefined) return [];
  return text
    .split(/[\s,]+/)
    .filter((w) => DEVICE_NAME.test(w))
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
    return {
      CUDA_VISIBLE_DEVICES: UNASSIGNED_GPU_INDEX,
      HIP_VISIBLE_DEVICES: UNASSIGNED_GPU_INDEX,
      GPU_DEVICE_ORDINAL: UNASSIGNED_GPU_INDEX,
    };
  }
  const parsed = assigned.map((n) => DEVICE_NAME.exec(n)!);
  const indices = parsed.map((m) => m[2]!).join(",");
  // One pilot's devices come from one tool, so they share a prefix.
  const visible = parsed[0]![1] === "GPU" ? "HIP_VISIBLE_DEVICES" : "CUDA_VISIBLE_DEVICES";
  return {
    _CONDOR_AssignedGPUs: assigned.join(","),
    [visible]: indices,
    GPU_DEVICE_ORDINAL: indices,
  };
}
