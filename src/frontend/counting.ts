/**
 * Idle jobs per entry, counted four ways as glideinWMS does:
 *
 * - `count`: every idle job the entry could run (a job matching three entries counts at each);
 * - `prop`: each autocluster's jobs split across the usable entries it matches, so the sum over
 *   entries is the number of jobs and a flexible job is not asked for three times;
 * - `hereonly`: jobs that match this entry and no other;
 * - `propMc`: `prop` in pilots, each job weighted by its requested CPUs over the entry's
 *   `GLIDEIN_CPUS` (an 8-core pilot runs eight 1-core jobs).
 *
 * Entries in downtime keep `count` and `hereonly` for monitoring but get no share of `prop`: the
 * jobs' share goes to the entries that can start pilots now.
 */
import type { MatchMatrix } from "./match-matrix.js";

export interface JobGroupFacts {
  /** Idle jobs. */
  readonly count: number;
  /** RequestCpus (at least 1). */
  readonly cpus: number;
  /** RequestMemory in MB (0 when unknown). */
  readonly memory: number;
}

export interface EntryFacts {
  readonly glideinCpus: number;
  readonly inDowntime: boolean;
}

export interface EntryCounts {
  count: Float64Array;
  prop: Float64Array;
  hereonly: Float64Array;
  /** Pilots' worth of proportional jobs (fractional; rounded up where requests are made). */
  propMc: Float64Array;
  /** Smallest memory per requested core among the jobs that match (Infinity when none). */
  minMemoryPerCore: Float64Array;
}

export function countMatches(
  matrix: MatchMatrix,
  jobs: readonly JobGroupFacts[],
  entries: readonly EntryFacts[],
): EntryCounts {
  const n = entries.length;
  const out: EntryCounts = {
    count: new Float64Array(n),
    prop: new Float64Array(n),
    hereonly: new Float64Array(n),
    propMc: new Float64Array(n),
    minMemoryPerCore: new Float64Array(n).fill(Infinity),
  };
  const cpusPerPilot = Float64Array.from(entries, (e) => Math.max(1, e.glideinCpus));
  const up = Uint8Array.from(entries, (e) => (e.inDowntime ? 0 : 1));
  // Usable (up) entries per class, so the split needs no per-entry pass to find its size.
  const upPerClass = matrix.classMembers.map((m) => m.filter((i) => up[i] === 1));

  for (let a = 0; a < jobs.length; a++) {
    const job = jobs[a]!;
    const classes = matrix.matches[a]!;
    if (job.count === 0 || classes.length === 0) continue;
    let matched = 0;
    let usable = 0;
    for (const c of classes) {
      matched += matrix.classMembers[c]!.length;
      usable += upPerClass[c]!.length;
    }
    const memPerCore = job.memory / Math.max(1, job.cpus);
    for (const c of classes) {
      for (const e of matrix.classMembers[c]!) {
        out.count[e]! += job.count;
        if (memPerCore < out.minMemoryPerCore[e]!) out.minMemoryPerCore[e] = memPerCore;
      }
    }
    if (matched === 1) out.hereonly[matrix.classMembers[classes[0]!]![0]!]! += job.count;
    if (usable === 0) continue;
    // Whole jobs: `base` each, and the remainder one by one starting at a rotating offset so
    // that no entry is always the one that gets the extra job.
    const base = Math.floor(job.count / usable);
    const extra = job.count - base * usable;
    const offset = a % usable;
    let k = 0;
    for (const c of classes) {
      for (const e of upPerClass[c]!) {
        const share = base + ((k - offset + usable) % usable < extra ? 1 : 0);
        k++;
        if (share === 0) continue;
        out.prop[e]! += share;
        out.propMc[e]! += (share * Math.max(1, job.cpus)) / cpusPerPilot[e]!;
      }
    }
  }
  return out;
}
