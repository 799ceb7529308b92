/**
 * The in-memory view of the queue that makes ClaimJob and IdleSummary fast: every job's status and
 * owner, and idle jobs grouped by autocluster (equal signature over the significant attributes),
 * each with a per-owner heap. A slot is matched once per autocluster, not per job, and the
 * outcome is cached per slot ad until the autoclusters change. Rebuilt from SQLite at start.
 */
import { ClassAd, rank, significantAttributes, symmetricMatch } from "../classad/index.js";
import { AutoclusterKeys } from "./autocluster-key.js";
import { IdleHeap, type HeapJob } from "./idle-heap.js";
import { JobStatus, jobId, type JobAttrs, type JobId } from "./job-status.js";
import type { MatchedCluster, TopJob } from "./matcher.js";

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
  readonly owners = new Map<string, { heap: IdleHeap; count: number }>();
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

/** An autocluster as one slot sees it: the matcher's view, built once per (slot, autocluster). */
class MatchedView implements MatchedCluster {
  constructor(
    readonly ac: Autocluster,
    readonly rank: number,
  ) {}

  get autoclusterId(): number {
    return this.ac.id;
  }

  /** Owners with idle jobs here (an owner's queue is dropped when its last job leaves). */
  owners(): Iterable<string> {
    return this.ac.owners.keys();
  }

  top(owner: string): TopJob | undefined {
    return this.ac.owners.get(owner)?.heap.peek(isLiveIn, this.ac);
  }
}

interface MatchCacheEntry {
  generation: number;
  /** Autocluster ids below this were evaluated. */
  upTo: number;
  matches: MatchedView[];
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
  private readonly matchCache = new Map<string, MatchCacheEntry>();
  readonly owners = new Map<string, OwnerCounts>();
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

  /** Autoclusters whose representative matches `slot` symmetrically, with the job's Rank. */
  matching(slot: ClassAd, slotKey: string, nowS: number): MatchedCluster[] {
    let entry = this.matchCache.get(slotKey);
    if (entry === undefined || entry.generation !== this.generation) {
      entry = { generation: this.generation, upTo: 0, matches: [] };
      if (this.matchCache.size >= MATCH_CACHE_SIZE) {
        this.matchCache.delete(this.matchCache.keys().next().value!);
      }
      this.matchCache.set(slotKey, entry);
    }
    const ctx = { now: () => nowS };
    for (; entry.upTo < this.byId.length; entry.upTo++) {
      const ac = this.byId[entry.upTo]!;
      if (symmetricMatch(ac.representative, slot, ctx)) {
        entry.matches.push(new MatchedView(ac, rank(ac.representative, slot, ctx)));
      }
    }
    const live: MatchedCluster[] = [];
    for (const m of entry.matches) if (m.ac.idleCount > 0) live.push(m);
    return live;
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
      q = { heap: new IdleHeap(), count: 0 };
      ac.owners.set(rec.owner, q);
    }
    q.heap.push(rec);
    q.count++;
    ac.idleCount++;
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
  }

  private count(rec: JobRecord, d: number): void {
    let c = this.owners.get(rec.owner);
    if (c === undefined) {
      c = { idle: 0, running: 0, held: 0 };
      this.owners.set(rec.owner, c);
    }
    if (rec.status === JobStatus.Idle) c.idle += d;
    else if (rec.status === JobStatus.Running) c.running += d;
    else if (rec.status === JobStatus.Held) c.held += d;
  }
}

function isLiveIn(job: HeapJob, seq: number, ac: Autocluster): boolean {
  const rec = job as JobRecord;
  return rec.status === JobStatus.Idle && rec.seq === seq && rec.autocluster === ac;
}

function normalise(names: string[]): string[] {
  return [...new Set(names.map((n) => n.toLowerCase()))].sort();
}

function bump(m: Map<string, number>, k: string, d: number): void {
  const v = (m.get(k) ?? 0) + d;
  if (v === 0) m.delete(k);
  else m.set(k, v);
}
