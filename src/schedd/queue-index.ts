/**
 * The in-memory view of the queue that makes ClaimJob and IdleSummary fast: every job's status and
 * owner, and idle jobs grouped by autocluster (equal signature over the significant attributes),
 * each with a per-owner heap, and per owner its autoclusters ordered by its best job there. A
 * slot is matched once per autocluster, not per job, and the outcome is cached per slot ad until
 * the autoclusters change. Rebuilt from SQLite at start.
 */
import { ClassAd, rank, significantAttributes, symmetricMatch } from "../classad/index.js";
import { AutoclusterKeys } from "./autocluster-key.js";
import { IdleHeap, type HeapJob } from "./idle-heap.js";
import { JobStatus, jobId, type JobAttrs, type JobId } from "./job-status.js";
import { chooseJob, isBetter, type JobChoice, type OwnerBest, type OwnerUsage } from "./matcher.js";
import { OwnerAutoclusters, type OwnerQueue } from "./owner-autoclusters.js";

export interface JobRecord extends HeapJob {
  owner: string;
  autocluster: Autocluster | undefined;
  leaseId: string | undefined;
  leaseExpires: number;
  /** The pilot's entry while running (for running counts per entry). */
  entry: string | undefined;
  /** The ad while running (what claim wrote), saving a read at heartbeat-kill or exit. */
  attrs: JobAttrs | undefined;
}

export class Autocluster {
  readonly owners = new Map<string, OwnerQueue>();
  idleCount = 0;
  constructor(
    readonly id: number,
    readonly key: string,
    /** The first job that formed it: every job here matches exactly as this one does. */
    readonly representative: ClassAd,
  ) {}
}

export interface OwnerCounts {
  idle: number;
  running: number;
  held: number;
}

/** What one slot matches: each autocluster's Rank of the slot, or undefined when it does not match. */
interface SlotMatches {
  generation: number;
  /** Autocluster ids below this were evaluated. */
  upTo: number;
  ranks: (number | undefined)[];
  /** The matching autoclusters. */
  matched: Autocluster[];
  /** Every matching autocluster ranks the slot the same: only JobPrio and age order jobs. */
  uniformRank: boolean;
}

const MATCH_CACHE_SIZE = 2048;

export class QueueIndex {
  readonly jobs = new Map<JobId, JobRecord>();
  private readonly autoclusters = new Map<string, Autocluster>();
  private readonly byId: Autocluster[] = [];
  private significant: string[];
  private known: Set<string>;
  /** Changes whenever autoclusters are rebuilt: invalidates cached matches. */
  private generation = 0;
  private readonly matchCache = new Map<string, SlotMatches>();
  /** Per owner, its autoclusters with idle jobs, best job first. */
  private readonly ownerQueues = new Map<string, OwnerAutoclusters>();
  readonly owners = new Map<string, OwnerCounts>();
  /** The running jobs: the lease timer looks at these, not at every job in the queue. */
  readonly running = new Set<JobRecord>();
  readonly runningByEntry = new Map<string, number>();
  readonly keys: AutoclusterKeys;

  constructor(baseSignificant: readonly string[]) {
    this.significant = normalise([...baseSignificant, "requirements", "rank"]);
    this.known = new Set(this.significant);
    this.keys = new AutoclusterKeys(this.significant);
  }

  get significantAttributes(): readonly string[] {
    return this.significant;
  }

  get autoclusterCount(): number {
    let n = 0;
    for (const ac of this.byId) if (ac.idleCount > 0) n++;
    return n;
  }

  *idleAutoclusters(): IterableIterator<Autocluster> {
    for (const ac of this.byId) if (ac.idleCount > 0) yield ac;
  }

  /**
   * Make sure `names` are significant; returns true when that changed the set, after which the
   * caller must `rebuild` with every idle job's ad.
   */
  learn(names: Iterable<string>): boolean {
    const add = [...names].map((n) => n.toLowerCase()).filter((n) => !this.known.has(n));
    if (add.length === 0) return false;
    this.significant = normalise([...this.significant, ...add]);
    this.known = new Set(this.significant);
    this.keys.setSignificant(this.significant);
    return true;
  }

  /** Names a slot ad reads from jobs. */
  static slotReferences(slot: ClassAd): string[] {
    return significantAttributes([slot]);
  }

  /** Regroup idle jobs after the significant attributes changed. */
  rebuild(attrsOf: (rec: JobRecord) => JobAttrs): void {
    this.autoclusters.clear();
    this.byId.length = 0;
    this.generation++;
    this.matchCache.clear();
    this.ownerQueues.clear();
    for (const rec of this.jobs.values()) {
      if (rec.status !== JobStatus.Idle) continue;
      rec.autocluster = undefined;
      this.enqueueIdle(rec, attrsOf(rec));
    }
  }

  add(rec: JobRecord, ad: JobAttrs | undefined): void {
    this.jobs.set(jobId(rec.cluster, rec.proc), rec);
    this.count(rec, +1);
    if (rec.status === JobStatus.Idle) this.enqueueIdle(rec, ad!);
  }

  /** A job changes status; `ad` (its new attributes) is needed when it becomes Idle. */
  setStatus(rec: JobRecord, status: number, ad?: JobAttrs): void {
    this.count(rec, -1);
    if (rec.status === JobStatus.Idle) this.dequeueIdle(rec);
    rec.status = status;
    this.count(rec, +1);
    if (status === JobStatus.Idle) this.enqueueIdle(rec, ad!);
  }

  /** A job leaves the queue (to history). */
  remove(rec: JobRecord): void {
    this.count(rec, -1);
    if (rec.status === JobStatus.Idle) this.dequeueIdle(rec);
    rec.status = JobStatus.Removed;
    this.jobs.delete(jobId(rec.cluster, rec.proc));
  }

  /** An idle job's attributes changed (qedit): it may belong to another autocluster now. */
  reindex(rec: JobRecord, ad: JobAttrs, prio: number): void {
    if (rec.status === JobStatus.Idle) this.dequeueIdle(rec);
    rec.prio = prio;
    if (rec.status === JobStatus.Idle) this.enqueueIdle(rec, ad);
  }

  setEntry(rec: JobRecord, entry: string | undefined): void {
    if (rec.entry !== undefined) bump(this.runningByEntry, rec.entry, -1);
    rec.entry = entry;
    if (entry !== undefined) bump(this.runningByEntry, entry, +1);
  }

  /** The job this slot gets (`matcher.ts` says which), or undefined when none matches. */
  choose(
    slot: ClassAd,
    slotKey: string,
    nowS: number,
    usage: (owner: string) => number,
  ): JobChoice | undefined {
    const m = this.matchesOf(slot, slotKey, nowS);
    if (m.matched.length === 0) return undefined;
    const owners: OwnerUsage[] = [];
    for (const [owner, counts] of this.owners) {
      if (counts.idle > 0) owners.push({ owner, usage: usage(owner) });
    }
    return chooseJob(owners, (o) => this.bestFor(m, o));
  }

  /** The owner's best job among the autoclusters the slot matches. */
  private bestFor(m: SlotMatches, owner: string): OwnerBest | undefined {
    if (m.uniformRank) {
      // Rank decides nothing: the owner's first autocluster the slot matches holds its best job.
      const q = this.ownerQueues.get(owner)?.first((q) => m.ranks[q.autoclusterId] !== undefined);
      return q && { autoclusterId: q.autoclusterId, ...pick(q.top!) };
    }
    let best: OwnerQueue | undefined;
    let bestRank = 0;
    for (const ac of m.matched) {
      const q = ac.owners.get(owner);
      if (q === undefined) continue;
      const r = m.ranks[ac.id]!;
      if (best === undefined || isBetter(r, q.top!, bestRank, best.top!)) {
        best = q;
        bestRank = r;
      }
    }
    return best && { autoclusterId: best.autoclusterId, ...pick(best.top!) };
  }

  /** The slot's cached matches, with autoclusters formed since evaluated against it. */
  private matchesOf(slot: ClassAd, slotKey: string, nowS: number): SlotMatches {
    let m = this.matchCache.get(slotKey);
    if (m === undefined || m.generation !== this.generation) {
      m = { generation: this.generation, upTo: 0, ranks: [], matched: [], uniformRank: true };
      if (this.matchCache.size >= MATCH_CACHE_SIZE) {
        this.matchCache.delete(this.matchCache.keys().next().value!);
      }
      this.matchCache.set(slotKey, m);
    }
    const ctx = { now: () => nowS };
    for (; m.upTo < this.byId.length; m.upTo++) {
      const ac = this.byId[m.upTo]!;
      if (!symmetricMatch(ac.representative, slot, ctx)) continue;
      const r = rank(ac.representative, slot, ctx);
      // A NaN Rank orders after every number instead of comparing false both ways.
      const ordered = Number.isNaN(r) ? -Infinity : r;
      if (m.matched.length > 0 && ordered !== m.ranks[m.matched[0]!.id]) m.uniformRank = false;
      m.ranks[ac.id] = ordered;
      m.matched.push(ac);
    }
    return m;
  }

  private enqueueIdle(rec: JobRecord, attrs: JobAttrs): void {
    const key = this.keys.key(attrs);
    let ac = this.autoclusters.get(key);
    if (ac === undefined) {
      ac = new Autocluster(this.byId.length, key, ClassAd.fromJSON(attrs));
      this.autoclusters.set(key, ac);
      this.byId.push(ac);
    }
    rec.autocluster = ac;
    rec.seq++;
    let q = ac.owners.get(rec.owner);
    if (q === undefined) {
      q = { autoclusterId: ac.id, heap: new IdleHeap(), count: 0, top: undefined, pos: -1 };
      ac.owners.set(rec.owner, q);
    }
    q.heap.push(rec);
    q.count++;
    ac.idleCount++;
    if (q.top === undefined || isBetter(0, rec, 0, q.top)) {
      q.top = rec;
      this.queuesOf(rec.owner).update(q);
    }
  }

  private dequeueIdle(rec: JobRecord): void {
    const ac = rec.autocluster;
    if (ac === undefined) return;
    const q = ac.owners.get(rec.owner)!;
    q.count--;
    if (q.count === 0) ac.owners.delete(rec.owner);
    ac.idleCount--;
    rec.autocluster = undefined;
    rec.seq++; // its heap entry is stale from now on
    if (q.top === rec) {
      q.top = q.heap.peek(isLiveIn, ac);
      this.queuesOf(rec.owner).update(q);
    }
  }

  private queuesOf(owner: string): OwnerAutoclusters {
    let o = this.ownerQueues.get(owner);
    if (o === undefined) {
      o = new OwnerAutoclusters();
      this.ownerQueues.set(owner, o);
    }
    return o;
  }

  private count(rec: JobRecord, d: number): void {
    let c = this.owners.get(rec.owner);
    if (c === undefined) {
      c = { idle: 0, running: 0, held: 0 };
      this.owners.set(rec.owner, c);
    }
    if (rec.status === JobStatus.Idle) c.idle += d;
    else if (rec.status === JobStatus.Running) {
      c.running += d;
      if (d > 0) this.running.add(rec);
      else this.running.delete(rec);
    } else if (rec.status === JobStatus.Held) c.held += d;
  }
}

function isLiveIn(job: HeapJob, seq: number, ac: Autocluster): boolean {
  const rec = job as JobRecord;
  return rec.status === JobStatus.Idle && rec.seq === seq && rec.autocluster === ac;
}

function pick(job: HeapJob): { prio: number; cluster: number; proc: number } {
  return { prio: job.prio, cluster: job.cluster, proc: job.proc };
}

function normalise(names: string[]): string[] {
  return [...new Set(names.map((n) => n.toLowerCase()))].sort();
}

function bump(m: Map<string, number>, k: string, d: number): void {
  const v = (m.get(k) ?? 0) + d;
  if (v === 0) m.delete(k);
  else m.set(k, v);
}
