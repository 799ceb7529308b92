/**
 * The job queue: SQLite as the store of record and the in-memory index for speed. Every state
 * change is decided from the current record (pure helpers), committed in one transaction, and
 * only then applied to the index, so a failed commit leaves memory as it was.
 */
import { setImmediate as yieldToLoop } from "node:timers/promises";
import { COMMON, JOB, SLOT } from "../ads/names.js";
import { ClassAd, createEvalBudget, parseExpression } from "../classad/index.js";
import type { Clock } from "../common/clock.js";
import {
  completionVerdict,
  heartbeatVerdict,
  lapsedLeases,
  leaseExpiry,
  newLeaseId,
  releaseVerdict,
} from "./lease.js";
import {
  MAX_UNMATERIALIZED_PER_OWNER,
  materializeLimits,
  room,
  type Factory,
} from "./materialize.js";
import {
  HoldCode,
  JobStatus,
  getAttr,
  isFinished,
  jobId,
  numAttr,
  quote,
  lowerName,
  setAttr,
  type JobAttrs,
  type JobId,
} from "./job-status.js";
import { expandMatchTime, type MatchExpansion } from "./match-expand.js";
import { macroOutsideString } from "./submit/macros.js";
import {
  editRefusal,
  isSecureJobAttr,
  protectedAttrSet,
  submitterAttrs,
} from "./job-attr-rules.js";
import { exitPolicy, periodicPolicy } from "./policy.js";
import {
  DEFAULT_PERIODIC_BOUNDS,
  overBoundHold,
  type PeriodicBounds,
  type PeriodicPass,
} from "./periodic-bounds.js";
import { chargeableCpu, EntryCpu } from "./entry-cpu.js";
import { QueueIndex, type JobRecord } from "./queue-index.js";
import type {
  ClaimResult,
  CompleteResult,
  HeartbeatResult,
  ReleaseResult,
  SubmitResult,
} from "./results.js";
import type { ScheddStore, StoredJob, StoredLease } from "./store.js";
import {
  claimedAttrs,
  completedAttrs,
  epochSeconds,
  exitedAttrs,
  heldAttrs,
  releasedAttrs,
  removedAttrs,
  requeuedAttrs,
  type ExitInfo,
  vacatedAttrs,
  inputTransferFailedAttrs,
  type HoldInfo,
} from "./transitions.js";
import { charged, decayed, type UsageState } from "./usage.js";

export interface QueueOptions {
  leaseMs: number;
  /** Job attributes typical slot START expressions read (autocluster signature). */
  significantAttributes: readonly string[];
  /** Job attribute recording the pilot's entry name, e.g. MATCH_GLIDEIN_Entry_Name. */
  entryAttribute: string;
  /** Slot attribute holding the pilot's entry name. */
  slotEntryAttribute: string;
  usageHalfLifeMs: number;
  /** Hand-backs for failed input transfer before the job is held (TransferInputError). */
  maxInputTransferFailures?: number;
  /** PROTECTED_JOB_ATTRS: once set, only an admin edits them. */
  protectedAttrs?: readonly string[];
  /** Jobs one owner may have waiting outside the queue (late materialization). */
  maxUnmaterialized?: number;
}
const POLICY_ATTRS = ["periodichold", "periodicrelease", "periodicremove"];
/** Jobs one claim may hold for macros its slot cannot fill before it gives up for this turn. */
const MAX_UNEXPANDABLE = 16;

/** What happened to jobs since this schedd started, for the metrics' counters. */
export type QueueEvents = {
  claims: number;
  /** Jobs that left the queue as Completed. */
  completions: number;
  /** Jobs put on hold, by HoldReasonCode. */
  holdsByCode: Map<number, number>;
  /** CPU seconds of finished runs by the entry of the pilot that ran them. */
  cpuByEntry: EntryCpu;
};

export class JobQueue {
  readonly index: QueueIndex;
  readonly events: QueueEvents = {
    claims: 0,
    completions: 0,
    holdsByCode: new Map(),
    cpuByEntry: new EntryCpu(),
  };
  private readonly protectedAttrs: ReadonlySet<string>;
  private readonly usage = new Map<string, UsageState>();
  /** Jobs with periodic expressions: only these are evaluated by the periodic timer. */
  private readonly periodic = new Set<JobId>();
  /** x509UserProxyExpiration (Unix seconds) of the jobs that brought a proxy. */
  private readonly proxyExpiry = new Map<JobId, number>();
  /** Where the next periodic pass starts, when the last one ran out of budget. */
  private periodicStart = 0;
  /** Late-materializing clusters with jobs still outside the queue, by cluster. */
  private readonly factories = new Map<number, Factory>();
  /** Clusters to materialize once the action under way ends (see materializingAfter). */
  private deferred: Set<number> | undefined;
  private readonly idleListeners = new Set<() => void>();
  private readonly slots = new Map<string, ClassAd>();
  /**
   * Active leases by id, as committed: a heartbeat or completion of a running job reads its lease
   * here instead of from SQLite. Ended and unknown ids are still looked up in the store, which
   * tells a stale lease from one never issued.
   */
  private readonly activeLeases = new Map<string, { rec: JobRecord; identity: string }>();

  constructor(
    readonly store: ScheddStore,
    private readonly clock: Clock,
    readonly opts: QueueOptions,
  ) {
    this.protectedAttrs = protectedAttrSet(opts.protectedAttrs ?? []);
    this.index = new QueueIndex(opts.significantAttributes);
    for (const u of store.allUsage()) this.usage.set(u.owner, { value: u.value, at: u.at });
    const leases = new Map(store.activeLeases().map((l) => [jobId(l.cluster, l.proc), l]));
    for (const job of store.allJobs()) {
      const rec = this.record(job);
      const lease = leases.get(jobId(job.cluster, job.proc));
      if (job.status === JobStatus.Running && lease) {
        rec.leaseId = lease.id;
        rec.leaseExpires = lease.expires;
        this.activeLeases.set(lease.id, { rec, identity: lease.identity });
      }
      this.index.add(rec, job.status === JobStatus.Idle ? job.attrs : undefined);
      if (job.status === JobStatus.Running) this.index.setEntry(rec, entryOf(job.attrs, opts));
      this.trackPolicy(job.attrs);
    }
    for (const c of store.unmaterializedClusters()) {
      const limits = materializeLimits(JSON.parse(c.ad) as JobAttrs);
      if (limits === undefined) continue;
      const present = new Set<number>();
      let spooling = false;
      for (const r of this.index.jobs.values()) {
        if (r.cluster !== c.cluster) continue;
        present.add(r.proc);
        if (r.status === JobStatus.Held) {
          const code = getAttr(store.getJob(r.cluster, r.proc)!.attrs, JOB.HoldReasonCode);
          spooling ||= code === String(HoldCode.SpoolingInput);
        }
      }
      this.factories.set(c.cluster, {
        owner: c.owner,
        ...limits,
        waiting: c.count,
        present,
        spooling,
      });
    }
  }

  /** Called whenever jobs may have become claimable (for ClaimJob's wait). */
  onIdleAdded(fn: () => void): () => void {
    this.idleListeners.add(fn);
    return () => this.idleListeners.delete(fn);
  }

  private notifyIdle(): void {
    for (const fn of [...this.idleListeners]) fn();
  }

  reserveCluster(owner: string): number {
    return this.store.reserveCluster(owner, this.clock.now());
  }

  /** Queue the jobs of a reserved cluster, all or none. */
  submit(
    clusterId: number,
    owner: string,
    jobs: readonly JobAttrs[],
    holdForInput = false,
    /** The submitter's authenticated identity, recorded in every job. */
    identity?: string,
  ): SubmitResult {
    const reserved = this.store.cluster(clusterId);
    if (!reserved) {
      return { ok: false, code: "not-found", message: `cluster ${clusterId} was not reserved` };
    }
    if (reserved.owner !== owner) {
      return {
        ok: false,
        code: "permission-denied",
        message: `cluster ${clusterId} belongs to ${reserved.owner}`,
      };
    }
    if (reserved.submitted > 0) {
      return {
        ok: false,
        code: "already-exists",
        message: `cluster ${clusterId} was already submitted (${reserved.submitted} jobs)`,
      };
    }
    if (jobs.length === 0) return { ok: false, code: "invalid-argument", message: "no jobs" };
    const now = this.clock.now();
    const prepared: StoredJob[] = [];
    const procs = new Set<number>();
    const t = String(epochSeconds(now));
    const status = holdForInput ? JobStatus.Held : JobStatus.Idle;
    const stamp: [string, string][] = [
      [JOB.Owner, quote(owner)],
      [JOB.QDate, t],
      [JOB.JobStatus, String(status)],
      [JOB.EnteredCurrentStatus, t],
      ...(identity === undefined ? [] : submitterAttrs(identity)),
    ];
    if (holdForInput) {
      stamp.push([JOB.HoldReason, quote("Spooling input data files")]);
      stamp.push([JOB.HoldReasonCode, String(HoldCode.SpoolingInput)]);
    }
    const stamped = new Set(["clusterid", "procid", ...stamp.map(([n]) => lowerName(n))]);
    const userHeldProcs = new Set<number>();
    for (let i = 0; i < jobs.length; i++) {
      const src = jobs[i]!;
      const proc = numAttr(src, JOB.ProcId, i);
      if (!Number.isInteger(proc) || proc < 0 || procs.has(proc)) {
        return { ok: false, code: "invalid-argument", message: `job ${i}: bad or repeated ProcId` };
      }
      procs.add(proc);
      // Each distinct expression text is parsed once per submit, not once per job.
      const bad = this.index.keys.valid(src);
      if (bad !== undefined) {
        return {
          ok: false,
          code: "invalid-argument",
          message: `job ${clusterId}.${proc}: ${bad}: ${parseProblem(src[bad]!)}`,
        };
      }
      // The ad is built with Object.fromEntries, its names in the same order for every job: V8
      // keeps such an object's properties fast, where one given more than about sixteen names
      // one by one becomes a slow dictionary (with the submitter's two names a job ad has 19).
      const entries: [string, string][] = [
        [JOB.ClusterId, String(clusterId)],
        [JOB.ProcId, String(proc)],
        ...stamp,
      ];
      if (getAttr(src, JOB.NumJobStarts) === undefined) entries.push([JOB.NumJobStarts, "0"]);
      // Who submitted is the schedd's to say: a client's own values for those are dropped.
      for (const k in src) {
        if (!stamped.has(lowerName(k)) && !isSecureJobAttr(k)) entries.push([k, src[k]!]);
      }
      const attrs: JobAttrs = Object.fromEntries(entries);
      // `hold = true` in the submit file: the job stays held, with the user's reason, past the
      // input upload; only a release by the user lets it run.
      const userHeld = numAttr(src, JOB.JobStatus, JobStatus.Idle) === JobStatus.Held;
      if (userHeld) {
        userHeldProcs.add(proc);
        attrs[JOB.JobStatus] = String(JobStatus.Held);
        for (const n of [JOB.HoldReason, JOB.HoldReasonCode]) {
          const v = getAttr(src, n);
          if (v !== undefined) setAttr(attrs, n, v);
        }
      }
      prepared.push({
        cluster: clusterId,
        proc,
        owner,
        status: userHeld ? JobStatus.Held : status,
        attrs,
      });
    }
    const limits = materializeLimits(prepared[0]!.attrs);
    let queued = prepared;
    let later: StoredJob[] = [];
    if (limits !== undefined) {
      prepared.sort((a, b) => a.proc - b.proc);
      // The attribute condor_q reads for a late-materializing cluster's whole size.
      for (const job of prepared) job.attrs[JOB.TotalSubmitProcs] = String(prepared.length);
      const first = Math.min(limits.limit, limits.maxIdle, prepared.length);
      queued = prepared.slice(0, first);
      // Jobs entering later come after their inputs arrived: idle, unless the user held them.
      later = prepared
        .slice(first)
        .map((j) => (j.status === JobStatus.Held && !userHeldProcs.has(j.proc) ? unspooled(j) : j));
      const waiting = this.waitingOf(owner);
      const bound = this.opts.maxUnmaterialized ?? MAX_UNMATERIALIZED_PER_OWNER;
      if (waiting + later.length > bound) {
        return {
          ok: false,
          code: "invalid-argument",
          message:
            `${later.length} jobs past max_materialize/max_idle would make ${owner}'s jobs ` +
            `waiting to enter the queue more than ${bound} (max_unmaterialized_jobs): ` +
            "submit fewer, or wait for earlier clusters to drain",
        };
      }
    }
    this.store.tx(() => {
      for (const job of queued) this.store.insertJob(job);
      for (const job of later) this.store.insertUnmaterialized(job);
      this.store.markSubmitted(clusterId, prepared.length);
    });
    for (const job of queued) {
      this.index.add(this.record(job), job.status === JobStatus.Idle ? job.attrs : undefined);
      this.trackPolicy(job.attrs);
    }
    if (limits !== undefined && later.length > 0) {
      this.factories.set(clusterId, {
        owner,
        ...limits,
        waiting: later.length,
        present: new Set(queued.map((j) => j.proc)),
        spooling: holdForInput,
      });
    }
    this.notifyIdle();
    return { ok: true, clusterId, count: prepared.length };
  }

  usageOf(owner: string): number {
    const running = this.index.owners.get(owner)?.running ?? 0;
    return running + decayed(this.usage.get(owner), this.clock.now(), this.opts.usageHalfLifeMs);
  }

  /**
   * Match a slot to the best idle job and lease it to the calling pilot; `slotNumber` > 0 is N of
   * the dynamic slot `slot1_N` the pilot gives the job, which its RemoteHost names.
   */
  claim(slotAttrs: JobAttrs, identity: string, slotNumber = 0): ClaimResult {
    const slotKey = stableKey(slotAttrs);
    const slot = this.slotAd(slotKey, slotAttrs);
    const now = this.clock.now();
    let rec: JobRecord;
    let stored: StoredJob;
    let expansion: MatchExpansion;
    // A job whose $$(...) this slot cannot fill is held, and the slot gets the next best job.
    for (let tries = 0; ; tries++) {
      if (tries >= MAX_UNEXPANDABLE) return { matched: false };
      const choice = this.index.choose(slot, slotKey, epochSeconds(now), (o) => this.usageOf(o));
      if (!choice) return { matched: false };
      rec = this.index.jobs.get(jobId(choice.cluster, choice.proc))!;
      stored = this.store.getJob(choice.cluster, choice.proc)!;
      expansion = expandMatchTime(stored.attrs, slotAttrs, slot);
      if (expansion.ok) break;
      this.hold(rec, { reason: expansion.holdReason, code: HoldCode.Unspecified });
    }
    const id = jobId(rec.cluster, rec.proc);
    const entry = entryOf(slotAttrs, this.opts, true);
    const slotName = unquote(getAttr(slotAttrs, COMMON.Name)) ?? identity;
    const info = {
      slotName,
      slotNumber,
      entryName: entry,
      factoryName: unquote(getAttr(slotAttrs, SLOT.Factory)),
      entryAttr: this.opts.entryAttribute,
    };
    const attrs = claimedAttrs(stored.attrs, info, now, expansion.persisted);
    // The pilot's copy differs from the stored ad only when the job has macros of its own.
    const offered =
      expansion.expanded.length === 0
        ? attrs
        : claimedAttrs(stored.attrs, info, now, [...expansion.persisted, ...expansion.expanded]);
    const leaseId = newLeaseId(now);
    const expires = leaseExpiry(now, this.opts.leaseMs);
    const usage = charged(this.usage.get(rec.owner), 1, now, this.opts.usageHalfLifeMs);
    this.store.tx(() => {
      this.store.updateJob(rec.cluster, rec.proc, JobStatus.Running, attrs);
      this.store.insertLease(
        { id: leaseId, cluster: rec.cluster, proc: rec.proc, identity },
        expires,
        now,
      );
      // In the claim's own transaction: a restart keeps each owner's share where it was.
      this.store.setUsage(rec.owner, usage.value, usage.at);
    });
    this.index.setStatus(rec, JobStatus.Running);
    this.index.setEntry(rec, entry);
    this.events.claims++;
    rec.leaseId = leaseId;
    rec.leaseExpires = expires;
    rec.attrs = attrs;
    this.activeLeases.set(leaseId, { rec, identity });
    this.usage.set(rec.owner, usage);
    this.materialize(rec.cluster);
    return { matched: true, jobId: id, attrs: offered, leaseId, leaseExpires: expires };
  }

  /** The parsed slot ad, cached: a pilot offers the same ad claim after claim. */
  private slotAd(slotKey: string, slotAttrs: JobAttrs): ClassAd {
    let slot = this.slots.get(slotKey);
    if (slot === undefined) {
      slot = ClassAd.fromJSON(slotAttrs);
      if (this.index.learn(QueueIndex.slotReferences(slot))) this.rebuildIndex();
      if (this.slots.size >= 4096) this.slots.clear();
      this.slots.set(slotKey, slot);
    }
    return slot;
  }

  /** A lease as its verdicts need it: active ones from memory, the others from the store. */
  lease(leaseId: string): Omit<StoredLease, "expires" | "created"> | undefined {
    const active = this.activeLeases.get(leaseId);
    if (active === undefined) return this.store.getLease(leaseId);
    const { rec, identity } = active;
    return {
      id: leaseId,
      cluster: rec.cluster,
      proc: rec.proc,
      identity,
      state: "active",
      endReason: null,
    };
  }

  heartbeat(leaseId: string, identity: string): HeartbeatResult {
    const lease = this.lease(leaseId);
    const v = heartbeatVerdict(leaseId, lease, identity);
    if (!v.ok) return v;
    if (v.action === "kill") return v;
    const expires = leaseExpiry(this.clock.now(), this.opts.leaseMs);
    this.store.tx(() => this.store.extendLease(leaseId, expires));
    const rec = this.index.jobs.get(jobId(lease!.cluster, lease!.proc));
    if (rec) rec.leaseExpires = expires;
    const proxyExpiration = this.proxyExpiry.get(jobId(lease!.cluster, lease!.proc)) ?? 0;
    return { ok: true, action: "continue", leaseExpires: expires, proxyExpiration };
  }

  /** The pilot's report of a run's end: exactly once per lease. */
  complete(leaseId: string, identity: string, exit: ExitInfo, outputs: string[]): CompleteResult {
    const found = this.lease(leaseId);
    const v = completionVerdict(leaseId, found, identity);
    if (!v.ok) return v;
    const lease = found!;
    const now = this.clock.now();
    const rec = this.index.jobs.get(jobId(lease.cluster, lease.proc))!;
    const stored = this.load(rec);
    this.chargeCpu(rec.entry, stored.attrs, exit, now);
    if (exit.hold) {
      // Not a completion: the run did not happen as asked; a user fixes it and releases.
      const held = heldAttrs(stored.attrs, true, exit.hold, now);
      this.commitChange(stored, JobStatus.Held, held, () =>
        this.store.endLease(leaseId, "completed", now, `held: ${exit.hold!.reason}`),
      );
      return { ok: true, jobStatus: JobStatus.Held };
    }
    let attrs = exitedAttrs(stored.attrs, exit, now);
    if (outputs.length > 0) setAttr(attrs, JOB.TransferredOutputFiles, quote(outputs.join(",")));
    const decision = exitPolicy(attrs, now);
    let status: number;
    if (decision.kind === "complete") {
      attrs = completedAttrs(attrs, now);
      status = JobStatus.Completed;
    } else if (decision.kind === "hold") {
      attrs = heldAttrs(attrs, false, decision.hold, now);
      status = JobStatus.Held;
    } else {
      attrs = requeuedAttrs(attrs, false, now);
      status = JobStatus.Idle;
    }
    this.commitChange(stored, status, attrs, () =>
      this.store.endLease(leaseId, "completed", now, "completed"),
    );
    return { ok: true, jobStatus: status };
  }

  /** The run's CPU, as far as its wall time allows, to its pilot's entry (for goodput). */
  private chargeCpu(entry: string | undefined, attrs: JobAttrs, exit: ExitInfo, now: number): void {
    if (entry === undefined) return;
    const wallS = epochSeconds(now) - numAttr(attrs, JOB.JobCurrentStartDate, NaN);
    const cpus = numAttr(attrs, JOB.RequestCpus, 1);
    const factory = unquote(getAttr(attrs, JOB.MatchGlideinFactory));
    const cpu = chargeableCpu(exit.cpuUser, exit.cpuSys, wallS, cpus);
    this.events.cpuByEntry.charge(entry, factory, cpu);
  }

  /**
   * The pilot hands a lease back before the job ended (it is stopping): the job is Idle again
   * at once instead of when the lease would lapse. Exactly once per lease, like a completion.
   */
  releaseLease(
    leaseId: string,
    identity: string,
    reason: string,
    inputTransferFailed = false,
  ): ReleaseResult {
    const found = this.lease(leaseId);
    const v = releaseVerdict(leaseId, found, identity);
    if (!v.ok) return v;
    const lease = found!;
    const now = this.clock.now();
    const stored = this.load(this.index.jobs.get(jobId(lease.cluster, lease.proc))!);
    const why = reason || "released by the pilot";
    const next = inputTransferFailed
      ? inputTransferFailedAttrs(stored.attrs, why, this.opts.maxInputTransferFailures ?? 3, now)
      : { status: JobStatus.Idle, attrs: vacatedAttrs(stored.attrs, why, now) };
    this.commitChange(stored, next.status, next.attrs, () =>
      this.store.endLease(leaseId, "released", now, why),
    );
    return { ok: true, jobStatus: next.status };
  }

  /** Requeue jobs whose lease lapsed; returns their ids. */
  expireLeases(): JobId[] {
    const now = this.clock.now();
    const running = [...this.index.running].map((rec) => ({
      rec,
      running: true,
      leaseExpires: rec.leaseExpires,
    }));
    const lapsed: JobId[] = [];
    for (const { rec } of lapsedLeases(running, now)) {
      const stored = this.load(rec);
      const attrs = requeuedAttrs(stored.attrs, true, now);
      const leaseId = rec.leaseId;
      this.commitChange(stored, JobStatus.Idle, attrs, () => {
        if (leaseId) this.store.endLease(leaseId, "lapsed", now, "lease lapsed without heartbeat");
      });
      lapsed.push(jobId(rec.cluster, rec.proc));
    }
    return lapsed;
  }

  /**
   * Hold the idle and running jobs whose proxy has expired, then evaluate
   * PeriodicHold/Release/Remove for every job that has one, within `bounds`: each job's
   * expressions share a step budget, the pass has one too (jobs it does not reach are evaluated
   * first next pass), and the pass yields to the event loop between slices so that other calls
   * keep their turn. A job whose expressions meet a bound is held saying so (HoldReasonCode 5);
   * one already held is not evaluated again until it is released or edited.
   */
  async evaluatePeriodic(bounds: PeriodicBounds = DEFAULT_PERIODIC_BOUNDS): Promise<PeriodicPass> {
    const now = this.clock.now();
    const pass: PeriodicPass = { changed: [], overBound: [], deferred: 0, steps: 0 };
    for (const cluster of [...this.factories.keys()]) this.materialize(cluster);
    for (const [id, expiry] of [...this.proxyExpiry]) {
      const rec = this.index.jobs.get(id);
      if (!rec) {
        this.proxyExpiry.delete(id);
        continue;
      }
      const live = rec.status === JobStatus.Idle || rec.status === JobStatus.Running;
      if (!live || expiry * 1000 > now) continue;
      this.hold(rec, expiredProxyHold(id, expiry));
      pass.changed.push({ id, kind: "hold" });
    }
    const ids = [...this.periodic];
    const start = ids.length === 0 ? 0 : this.periodicStart % ids.length;
    this.periodicStart = 0;
    let sliceSteps = 0;
    let sliceStart = performance.now();
    for (let k = 0; k < ids.length; k++) {
      const id = ids[(start + k) % ids.length]!;
      const rec = this.index.jobs.get(id);
      if (!rec || !this.periodic.has(id)) {
        if (!rec) this.periodic.delete(id);
        continue;
      }
      const allowed = Math.min(bounds.jobStepBudget, bounds.passStepBudget - pass.steps);
      const budget = createEvalBudget(allowed);
      const d = periodicPolicy(this.load(rec).attrs, rec.status, now, budget);
      const spent = allowed - Math.max(0, budget.steps);
      pass.steps += spent;
      sliceSteps += spent;
      if (d.kind === "bound" && d.bound === "steps" && allowed < bounds.jobStepBudget) {
        // The pass ran out, not this job: it goes first next pass.
        this.periodicStart = (start + k) % ids.length;
        pass.deferred = ids.length - k;
        break;
      }
      if (d.kind === "bound") {
        pass.overBound.push({ id, expr: d.expr, bound: d.bound });
        if (rec.status === JobStatus.Held) this.periodic.delete(id);
        else {
          this.hold(rec, overBoundHold(d.expr, d.bound, bounds.jobStepBudget));
          pass.changed.push({ id, kind: "hold" });
        }
      } else if (d.kind !== "none") {
        if (d.kind === "hold") this.hold(rec, d.hold);
        else if (d.kind === "release") this.release(rec, d.reason);
        else this.remove(rec, d.reason);
        pass.changed.push({ id, kind: d.kind });
      }
      if (
        sliceSteps >= bounds.sliceSteps ||
        (k % 32 === 31 && performance.now() - sliceStart >= bounds.sliceMs)
      ) {
        await yieldToLoop();
        sliceSteps = 0;
        sliceStart = performance.now();
      }
    }
    return pass;
  }

  hold(rec: JobRecord, hold: HoldInfo): void {
    const now = this.clock.now();
    const stored = this.load(rec);
    const running = rec.status === JobStatus.Running;
    const attrs = heldAttrs(stored.attrs, running, hold, now);
    this.commitChange(stored, JobStatus.Held, attrs, () => this.killLease(rec, now, hold.reason));
  }

  /** `reason` is the job's ReleaseReason, which the user log's 013 event shows. */
  release(rec: JobRecord, reason: string): void {
    const f = this.factories.get(rec.cluster);
    if (f) f.spooling = false;
    const stored = this.load(rec);
    const attrs = releasedAttrs(stored.attrs, reason, this.clock.now());
    this.commitChange(stored, JobStatus.Idle, attrs);
    // Evaluated again even if its policy met a bound while held: the user released it.
    this.trackPolicy(stored.attrs);
  }

  remove(rec: JobRecord, reason: string): void {
    const now = this.clock.now();
    const stored = this.load(rec);
    const running = rec.status === JobStatus.Running;
    const attrs = removedAttrs(stored.attrs, running, reason, now);
    this.commitChange(stored, JobStatus.Removed, attrs, () => this.killLease(rec, now, reason));
  }

  /** Set attributes of a job in the queue (qedit). Returns an error message or undefined. */
  edit(
    rec: JobRecord,
    name: string,
    text: string,
    caller: { admin: boolean } = { admin: false },
  ): string | undefined {
    const refusal = editRefusal(
      name,
      caller,
      this.protectedAttrs,
      getAttr(this.load(rec).attrs, name) !== undefined,
    );
    if (refusal !== undefined) return refusal;
    try {
      parseExpression(text);
    } catch (err) {
      return `bad expression for ${name}: ${(err as Error).message}`;
    }
    this.writeAttrs(rec, [[name, text]]);
    return undefined;
  }

  /**
   * Attributes the schedd writes itself, past the edit rules: the subject and expiry of the
   * proxy a job brought, read from the file it received.
   */
  setScheddAttrs(rec: JobRecord, pairs: readonly [string, string][]): void {
    this.writeAttrs(rec, pairs);
  }

  private writeAttrs(rec: JobRecord, pairs: readonly [string, string][]): void {
    const stored = this.load(rec);
    const attrs = { ...stored.attrs };
    for (const [name, text] of pairs) setAttr(attrs, name, text);
    this.store.tx(() => this.store.updateJob(rec.cluster, rec.proc, rec.status, attrs));
    if (rec.attrs !== undefined) rec.attrs = attrs;
    this.index.reindex(rec, attrs, numAttr(attrs, JOB.JobPrio));
    this.trackPolicy(attrs);
    if (rec.status === JobStatus.Idle) this.notifyIdle();
  }

  private killLease(rec: JobRecord, now: number, reason: string): void {
    if (rec.status === JobStatus.Running && rec.leaseId) {
      this.store.endLease(rec.leaseId, "killed", now, reason);
    }
  }

  /** One transaction: the job's new status and ad (to history if finished) plus `extra`. */
  private commitChange(
    stored: StoredJob,
    status: number,
    attrs: JobAttrs,
    extra?: () => void,
  ): void {
    const now = this.clock.now();
    this.store.tx(() => {
      if (isFinished(status)) this.store.moveToHistory({ ...stored, status, attrs }, now);
      else this.store.updateJob(stored.cluster, stored.proc, status, attrs);
      extra?.();
    });
    const rec = this.index.jobs.get(jobId(stored.cluster, stored.proc))!;
    if (status === JobStatus.Completed) this.events.completions++;
    if (status === JobStatus.Held && rec.status !== JobStatus.Held) {
      const code = numAttr(attrs, JOB.HoldReasonCode);
      this.events.holdsByCode.set(code, (this.events.holdsByCode.get(code) ?? 0) + 1);
    }
    if (rec.status === JobStatus.Running) this.index.setEntry(rec, undefined);
    if (rec.leaseId !== undefined) this.activeLeases.delete(rec.leaseId);
    rec.leaseId = undefined;
    rec.leaseExpires = 0;
    rec.attrs = undefined;
    if (isFinished(status)) {
      this.index.remove(rec);
      this.periodic.delete(jobId(stored.cluster, stored.proc));
      this.proxyExpiry.delete(jobId(stored.cluster, stored.proc));
      this.factories.get(stored.cluster)?.present.delete(stored.proc);
    } else {
      this.index.setStatus(rec, status, status === JobStatus.Idle ? attrs : undefined);
      if (status === JobStatus.Idle) this.notifyIdle();
    }
    this.materialize(stored.cluster);
  }

  /**
   * Run `fn` with materialization put off until it returns: a removal of a whole cluster must
   * not pull its next jobs into the queue job by job while it removes them.
   */
  materializingAfter<T>(fn: () => T): T {
    if (this.deferred !== undefined) return fn();
    const deferred = new Set<number>();
    this.deferred = deferred;
    try {
      return fn();
    } finally {
      this.deferred = undefined;
      for (const c of deferred) this.materialize(c);
    }
  }

  /** Jobs of a late-materializing cluster enter the queue while its limits leave room. */
  materialize(cluster: number): void {
    const f = this.factories.get(cluster);
    if (f === undefined) return;
    if (this.deferred !== undefined) {
      this.deferred.add(cluster);
      return;
    }
    let idle = 0;
    for (const proc of f.present) {
      if (this.index.jobs.get(jobId(cluster, proc))?.status === JobStatus.Idle) idle++;
    }
    const n = room(f, idle);
    if (n === 0) return;
    const t = String(epochSeconds(this.clock.now()));
    let entering: StoredJob[] = [];
    this.store.tx(() => {
      entering = this.store.takeUnmaterialized(cluster, n);
      for (const job of entering) {
        setAttr(job.attrs, JOB.EnteredCurrentStatus, t);
        this.store.insertJob(job);
      }
    });
    for (const job of entering) {
      this.index.add(this.record(job), job.status === JobStatus.Idle ? job.attrs : undefined);
      this.trackPolicy(job.attrs);
      f.present.add(job.proc);
    }
    f.waiting -= entering.length;
    if (f.waiting <= 0 || entering.length === 0) this.factories.delete(cluster);
    if (entering.length > 0) this.notifyIdle();
  }

  /** A removed cluster's jobs not yet materialized go with it; how many there were. */
  dropUnmaterialized(cluster: number): number {
    if (!this.factories.delete(cluster)) return 0;
    let n = 0;
    this.store.tx(() => {
      n = this.store.dropUnmaterialized(cluster);
    });
    return n;
  }

  /** A job still waiting outside the queue (its inputs may still be uploaded). */
  isUnmaterialized(cluster: number, proc: number): boolean {
    return this.factories.has(cluster) && this.store.isUnmaterialized(cluster, proc);
  }

  /**
   * Attributes the schedd writes (a proxy's subject and expiry) on a cluster's jobs still
   * outside the queue, one proc or all, where `applies` says; how many changed.
   */
  setUnmaterializedAttrs(
    cluster: number,
    proc: number | undefined,
    applies: (attrs: JobAttrs) => boolean,
    pairs: readonly [string, string][],
  ): number {
    if (!this.factories.has(cluster)) return 0;
    let n = 0;
    this.store.tx(() => {
      n = this.store.changeUnmaterialized(cluster, proc, (attrs) => {
        if (!applies(attrs)) return undefined;
        for (const [name, text] of pairs) setAttr(attrs, name, text);
        return attrs;
      });
    });
    return n;
  }

  /** Whether any of a cluster's jobs outside the queue (one proc, or all) passes `test`. */
  someUnmaterialized(
    cluster: number,
    proc: number | undefined,
    test: (attrs: JobAttrs) => boolean,
  ): boolean {
    if (!this.factories.has(cluster)) return false;
    let found = false;
    this.store.changeUnmaterialized(cluster, proc, (attrs) => {
      found ||= test(attrs);
      return undefined;
    });
    return found;
  }

  /** Whether a cluster has jobs waiting outside the queue. */
  hasUnmaterialized(cluster: number): boolean {
    return this.factories.has(cluster);
  }

  private waitingOf(owner: string): number {
    let n = 0;
    for (const f of this.factories.values()) if (f.owner === owner) n += f.waiting;
    return n;
  }

  /** A job's stored record; running jobs' ads are kept in memory between claim and exit. */
  private load(rec: JobRecord): StoredJob {
    if (rec.attrs !== undefined) {
      const { cluster, proc, owner, status } = rec;
      return { cluster, proc, owner, status, attrs: rec.attrs };
    }
    return this.store.getJob(rec.cluster, rec.proc)!;
  }

  private rebuildIndex(): void {
    this.index.rebuild((rec) => this.store.getJob(rec.cluster, rec.proc)!.attrs);
  }

  /** Make names significant for grouping (IdleSummary's match attributes). */
  ensureSignificant(names: Iterable<string>): void {
    if (this.index.learn(names)) this.rebuildIndex();
  }

  private record(job: StoredJob): JobRecord {
    return {
      cluster: job.cluster,
      proc: job.proc,
      owner: job.owner,
      status: job.status,
      prio: numAttr(job.attrs, JOB.JobPrio),
      seq: 0,
      autocluster: undefined,
      leaseId: undefined,
      leaseExpires: 0,
      entry: undefined,
      attrs: undefined,
    };
  }

  private trackPolicy(attrs: JobAttrs): void {
    const id = jobId(numAttr(attrs, JOB.ClusterId), numAttr(attrs, JOB.ProcId));
    const has = Object.keys(attrs).some((k) => POLICY_ATTRS.includes(k.toLowerCase()));
    if (has) this.periodic.add(id);
    else this.periodic.delete(id);
    const expiry = Number(getAttr(attrs, JOB.X509UserProxyExpiration));
    if (Number.isFinite(expiry) && expiry > 0) this.proxyExpiry.set(id, expiry);
    else this.proxyExpiry.delete(id);
  }
}

/** A job held only while its inputs upload, as it is once they have arrived: idle. */
function unspooled(job: StoredJob): StoredJob {
  const attrs: JobAttrs = {};
  for (const k in job.attrs) {
    const l = lowerName(k);
    if (l !== "holdreason" && l !== "holdreasoncode") attrs[k] = job.attrs[k]!;
  }
  setAttr(attrs, JOB.JobStatus, String(JobStatus.Idle));
  return { ...job, status: JobStatus.Idle, attrs };
}

/**
 * The hold of a job whose proxy expired: HTCondor's CorruptedCredential, as its starter holds a
 * job whose proxy runs out, with what the user does next.
 */
export function expiredProxyHold(id: JobId, expiry: number): HoldInfo {
  const at = new Date(expiry * 1000).toISOString().replace("T", " ").slice(0, 19);
  return {
    reason:
      `Job proxy expired at ${at} UTC: renew it (voms-proxy-init or updraft proxy init), ` +
      `then 'updraft refresh-proxy ${id}' and 'updraft release ${id}'`,
    code: HoldCode.CorruptedCredential,
    subcode: 0,
  };
}

function parseProblem(text: string): string {
  const macro = text.includes("$$(") ? macroOutsideString(text) : undefined;
  if (macro !== undefined) {
    // A client other than `updraft submit`, which refuses this itself, naming the line.
    return `${macro} is outside a string, which no ClassAd expression can hold: put it in a string ("${macro}") to have it filled at the match`;
  }
  try {
    parseExpression(text);
    return "cannot be parsed";
  } catch (err) {
    return (err as Error).message;
  }
}

function entryOf(attrs: JobAttrs, opts: QueueOptions, fromSlot = false): string | undefined {
  return unquote(getAttr(attrs, fromSlot ? opts.slotEntryAttribute : opts.entryAttribute));
}

/** The string inside a string literal's text, or undefined. */
export function unquote(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  try {
    const v = ClassAd.fromJSON({ v: text }).evaluate("v");
    return typeof v === "string" ? v : undefined;
  } catch {
    return undefined;
  }
}

function stableKey(attrs: JobAttrs): string {
  return Object.keys(attrs)
    .sort()
    .map((k) => `${k.toLowerCase()}=${attrs[k]}`)
    .join("\n");
}
