/**
 * Late materialization, as HTCondor's schedd does for a cluster submitted with `max_materialize`
 * (`JobMaterializeLimit`: at most this many of its jobs in the queue at once) or `max_idle`
 * (`JobMaterializeMaxIdle`: at most this many idle): the other jobs wait outside the queue, in
 * proc order, and enter it as earlier ones start or leave. Pure: the queue keeps one Factory per
 * such cluster and asks `room` how many may enter.
 */
import { getAttr, type JobAttrs } from "./job-status.js";
import { JOB } from "../ads/names.js";

/** Default of max_unmaterialized_jobs: one owner's jobs waiting outside the queue, all clusters. */
export const MAX_UNMATERIALIZED_PER_OWNER = 100_000;

export interface Factory {
  owner: string;
  /** JobMaterializeLimit; Infinity when only max_idle was given. */
  limit: number;
  /** JobMaterializeMaxIdle; Infinity when only max_materialize was given. */
  maxIdle: number;
  /** Jobs still outside the queue. */
  waiting: number;
  /** Procs of the cluster in the queue now. */
  present: Set<number>;
  /** Its input files are still being uploaded: nothing enters until the submit releases it. */
  spooling: boolean;
}

/** The cluster's limits from a job's ad, or undefined when it materializes all at once. */
export function materializeLimits(attrs: JobAttrs): { limit: number; maxIdle: number } | undefined {
  const read = (name: string): number | undefined => {
    const text = getAttr(attrs, name);
    if (text === undefined) return undefined;
    const n = Number(text);
    return Number.isInteger(n) && n > 0 ? n : undefined;
  };
  const limit = read(JOB.JobMaterializeLimit);
  const maxIdle = read(JOB.JobMaterializeMaxIdle);
  if (limit === undefined && maxIdle === undefined) return undefined;
  return { limit: limit ?? Infinity, maxIdle: maxIdle ?? Infinity };
}

/** How many waiting jobs may enter the queue now, with `idle` of its present jobs idle. */
export function room(f: Factory, idle: number): number {
  if (f.spooling) return 0;
  return Math.max(0, Math.min(f.waiting, f.limit - f.present.size, f.maxIdle - idle));
}
