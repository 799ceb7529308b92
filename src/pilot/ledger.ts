/**
 * Partitionable resource accounting: the pilot's CPUs, memory (MB), disk (KB) and GPUs are split
 * among the jobs it runs at once. Pure; the slot ad is built from `remaining()` so that the
 * schedd's match sees only what is left.
 */

export interface Resources {
  cpus: number;
  memoryMb: number;
  diskKb: number;
  gpus: number;
}

export type ReserveResult =
  { ok: true } | { ok: false; reason: "duplicate" | "insufficient"; short: (keyof Resources)[] };

export interface ResourceLedger {
  readonly total: Readonly<Resources>;
  remaining(): Resources;
  reserve(jobId: string, req: Resources): ReserveResult;
  release(jobId: string): boolean;
  holders(): string[];
}

const KEYS: (keyof Resources)[] = ["cpus", "memoryMb", "diskKb", "gpus"];

export function createResourceLedger(total: Resources): ResourceLedger {
  const claims = new Map<string, Resources>();
  const remaining = (): Resources => {
    const left = { ...total };
    for (const c of claims.values()) for (const k of KEYS) left[k] -= c[k];
    return left;
  };
  return {
    total: Object.freeze({ ...total }),
    remaining,
    reserve(jobId, req) {
      if (claims.has(jobId)) return { ok: false, reason: "duplicate", short: [] };
      const left = remaining();
      const short = KEYS.filter((k) => req[k] > left[k]);
      if (short.length > 0) return { ok: false, reason: "insufficient", short };
      claims.set(jobId, { ...req });
      return { ok: true };
    },
    release: (jobId) => claims.delete(jobId),
    holders: () => [...claims.keys()],
  };
}
