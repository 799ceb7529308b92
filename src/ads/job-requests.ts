/**
 * What a job takes from a partitionable slot, read one way by the pilot (its ledger) and the
 * schedd (a claim for several jobs takes each one's share out of the slot before the next).
 */
import type { ClassAd } from "../classad/index.js";
import { JOB } from "./names.js";

export interface JobRequests {
  cpus: number;
  memoryMb: number;
  diskKb: number;
  gpus: number;
}

/**
 * HTCondor's defaults for absent requests. A job takes at least one CPU and never less than
 * nothing: a negative request would grow what the slot has left for other jobs, and CPU-less
 * jobs would run past the CPUs + 1 Slot ads a collector holds a bound pilot to (the frontend
 * counts each job as at least one CPU too).
 */
export function jobRequests(ad: ClassAd): JobRequests {
  return {
    cpus: Math.max(1, ad.getInteger(JOB.RequestCpus) ?? 1),
    memoryMb: Math.max(0, ad.getInteger(JOB.RequestMemory) ?? 128),
    diskKb: Math.max(0, ad.getInteger(JOB.RequestDisk) ?? 0),
    gpus: Math.max(0, ad.getInteger(JOB.RequestGPUs) ?? 0),
  };
}
