/**
 * The job choice for a ClaimJob, pure: given the autoclusters that match the slot (with the
 * job's Rank of it) and, per owner, the best idle job in each, pick one job.
 *
 * Order, as HTCondor's negotiator serves submitters: first the owner with the least recent usage
 * among owners that have a matching idle job (fair share), then within that owner the job with
 * the best Rank of this slot, then the highest JobPrio, then the oldest (smallest cluster.proc).
 */
export interface OwnerTop {
  owner: string;
  prio: number;
  cluster: number;
  proc: number;
}

export interface MatchedCluster {
  autoclusterId: number;
  /** The job's Rank of the slot (same for every job in the autocluster). */
  rank: number;
  /** Best idle job per owner in this autocluster. */
  tops: readonly OwnerTop[];
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
  let owner: string | undefined;
  let ownerUsage = Infinity;
  for (const m of matched) {
    for (const t of m.tops) {
      if (t.owner === owner) continue;
      const u = usage(t.owner);
      if (u < ownerUsage || (u === ownerUsage && owner !== undefined && t.owner < owner)) {
        owner = t.owner;
        ownerUsage = u;
      }
    }
  }
  if (owner === undefined) return undefined;
  let best: { m: MatchedCluster; t: OwnerTop } | undefined;
  for (const m of matched) {
    const t = m.tops.find((x) => x.owner === owner);
    if (t === undefined) continue;
    if (best === undefined || isBetter(m, t, best.m, best.t)) best = { m, t };
  }
  if (best === undefined) return undefined;
  return {
    autoclusterId: best.m.autoclusterId,
    owner,
    cluster: best.t.cluster,
    proc: best.t.proc,
  };
}

function isBetter(m: MatchedCluster, t: OwnerTop, bm: MatchedCluster, bt: OwnerTop): boolean {
  if (m.rank !== bm.rank) return m.rank > bm.rank;
  if (t.prio !== bt.prio) return t.prio > bt.prio;
  if (t.cluster !== bt.cluster) return t.cluster < bt.cluster;
  return t.proc < bt.proc;
}
