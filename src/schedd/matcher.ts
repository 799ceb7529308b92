/**
 * The job choice for a ClaimJob, pure: the order in which a slot is offered jobs.
 *
 * As HTCondor's negotiator serves submitters: first the owner with the least recent usage among
 * owners that have an idle job matching the slot (fair share; ties by name), then within that
 * owner the job with the best Rank of this slot, then the highest JobPrio, then the oldest
 * (smallest cluster.proc). The index (`queue-index.ts`, `owner-autoclusters.ts`) finds each
 * owner's best job without walking the queue; this file says what "best" means.
 */
export interface TopJob {
  prio: number;
  cluster: number;
  proc: number;
}

/** An owner's best job for a slot. */
export interface OwnerBest extends TopJob {
  autoclusterId: number;
}

export interface JobChoice {
  autoclusterId: number;
  owner: string;
  cluster: number;
  proc: number;
}

export interface OwnerUsage {
  owner: string;
  usage: number;
}

/**
 * Owners in fair-share order (least usage first, ties by name); the first one `bestOf` finds a
 * matching job for gets the slot. `owners` is sorted in place.
 */
export function chooseJob(
  owners: OwnerUsage[],
  bestOf: (owner: string) => OwnerBest | undefined,
): JobChoice | undefined {
  owners.sort(fairShareOrder);
  for (const { owner } of owners) {
    const b = bestOf(owner);
    if (b !== undefined) {
      return { autoclusterId: b.autoclusterId, owner, cluster: b.cluster, proc: b.proc };
    }
  }
  return undefined;
}

function fairShareOrder(a: OwnerUsage, b: OwnerUsage): number {
  if (a.usage !== b.usage) return a.usage - b.usage;
  return a.owner < b.owner ? -1 : a.owner > b.owner ? 1 : 0;
}

/** Whether job `t` (its Rank of the slot `rank`) goes before job `bt` (rank `bestRank`). */
export function isBetter(rank: number, t: TopJob, bestRank: number, bt: TopJob): boolean {
  if (rank !== bestRank) return rank > bestRank;
  if (t.prio !== bt.prio) return t.prio > bt.prio;
  if (t.cluster !== bt.cluster) return t.cluster < bt.cluster;
  return t.proc < bt.proc;
}
