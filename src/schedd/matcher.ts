/**
 * The job choice for a ClaimJob, pure: given the autoclusters that match the slot (each with the
 * job's Rank of the slot, its owners and their best idle job), pick one job.
 *
 * Order, as HTCondor's negotiator serves submitters: first the owner with the least recent usage
 * among owners that have a matching idle job (fair share; ties by name), then within that owner
 * the job with the best Rank of this slot, then the highest JobPrio, then the oldest (smallest
 * cluster.proc). Candidates are read through an interface so the hot path allocates nothing per
 * autocluster.
 */
export interface TopJob {
  prio: number;
  cluster: number;
  proc: number;
}

export interface MatchedCluster {
  readonly autoclusterId: number;
  /** The job's Rank of the slot (the same for every job in the autocluster). */
  readonly rank: number;
  /** Owners with idle jobs here. */
  owners(): Iterable<string>;
  /** The owner's best idle job here, if any. */
  top(owner: string): TopJob | undefined;
}

export interface JobChoice {
  autoclusterId: number;
  owner: string;
  cluster: number;
  proc: number;
}

export function chooseJob(
  matched: readonly MatchedCluster[],
  usage: (owner: string) => number,
): JobChoice | undefined {
  const seen = new Map<string, number>();
  let owner: string | undefined;
  let ownerUsage = Infinity;
  for (const m of matched) {
    for (const o of m.owners()) {
      if (seen.has(o)) continue;
      const u = usage(o);
      seen.set(o, u);
      if (u < ownerUsage || (u === ownerUsage && owner !== undefined && o < owner)) {
        owner = o;
        ownerUsage = u;
      }
    }
  }
  if (owner === undefined) return undefined;
  let best: MatchedCluster | undefined;
  let bestTop: TopJob | undefined;
  for (const m of matched) {
    const t = m.top(owner);
    if (t === undefined) continue;
    if (best === undefined || isBetter(m.rank, t, best.rank, bestTop!)) {
      best = m;
      bestTop = t;
    }
  }
  if (best === undefined) return undefined;
  return {
    autoclusterId: best.autoclusterId,
    owner,
    cluster: bestTop!.cluster,
    proc: bestTop!.proc,
  };
}

function isBetter(rank: number, t: TopJob, bestRank: number, bt: TopJob): boolean {
  if (rank !== bestRank) return rank > bestRank;
  if (t.prio !== bt.prio) return t.prio > bt.prio;
  if (t.cluster !== bt.cluster) return t.cluster < bt.cluster;
  return t.proc < bt.proc;
}
