/**
 * Test double: an in-memory job queue standing in for a schedd. It matches with the real ClassAd
 * engine, hands out leases, and records every call so tests can assert on the protocol. It can be
 * made unreachable (every call throws) to imitate a schedd restart.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { ClassAd, symmetricMatch } from "../../../src/classad/index.js";
import type { JobLease, JobSource, LeaseVerdict } from "../../../src/pilot/interfaces.js";
import type { JobOutcome } from "../../../src/pilot/runner/run-job.js";

export interface QueuedJob {
  jobId: string;
  ad: ClassAd;
  inputs?: Record<string, string>;
  state: "idle" | "running" | "done";
  verdict?: LeaseVerdict;
  outcome?: JobOutcome;
  releases: number;
  /** Releases the pilot flagged as failed input transfers. */
  inputTransferFailures: number;
}

export class InMemoryJobSourceDouble implements JobSource {
  readonly jobs = new Map<string, QueuedJob>();
  readonly calls: string[] = [];
  unreachable = false;
  /** Input transfers still to fail (a schedd restarting mid-transfer), then they work again. */
  failStageIns = 0;
  /** The lease's length the double says it hands out and renews; unset: it does not say. */
  leaseMs: number | undefined;
  /** Most leases out at once, to check the pilot's concurrency. */
  maxConcurrent = 0;
  private leases = 0;
  private nextCluster = 1;

  constructor(readonly name = "schedd@test") {}

  submit(adText: string, inputs?: Record<string, string>): string {
    const jobId = `${this.nextCluster++}.0`;
    this.jobs.set(jobId, {
      jobId,
      ad: ClassAd.parse(adText),
      inputs,
      state: "idle",
      releases: 0,
      inputTransferFailures: 0,
    });
    return jobId;
  }

  /** The schedd's answer to the next heartbeat of this job. */
  setVerdict(jobId: string, verdict: LeaseVerdict): void {
    this.jobs.get(jobId)!.verdict = verdict;
  }

  private check(call: string): void {
    this.calls.push(call);
    if (this.unreachable) throw new Error(`${this.name} unreachable`);
  }

  async claim(slotAd: ClassAd): Promise<JobLease | undefined> {
    this.check("claim");
    for (const j of this.jobs.values()) {
      if (j.state !== "idle" || !symmetricMatch(j.ad, slotAd)) continue;
      j.state = "running";
      this.leases++;
      this.maxConcurrent = Math.max(this.maxConcurrent, this.leases);
      const lease = { jobId: j.jobId, schedd: this.name, leaseId: `lease-${j.jobId}`, ad: j.ad };
      return this.leaseMs === undefined ? lease : { ...lease, leaseMs: this.leaseMs };
    }
    return undefined;
  }

  async heartbeat(lease: JobLease): Promise<LeaseVerdict> {
    this.check(`heartbeat ${lease.jobId}`);
    const verdict = this.jobs.get(lease.jobId)!.verdict;
    if (verdict) return verdict;
    return this.leaseMs === undefined
      ? { action: "continue" }
      : { action: "continue", leaseMs: this.leaseMs };
  }

  async stageIn(lease: JobLease, sandboxDir: string): Promise<void> {
    this.check(`stageIn ${lease.jobId}`);
    if (this.failStageIns > 0) {
      this.failStageIns--;
      throw new Error(`${this.name} closed the input stream`);
    }
    for (const [name, text] of Object.entries(this.jobs.get(lease.jobId)!.inputs ?? {})) {
      writeFileSync(join(sandboxDir, name), text);
    }
  }

  async complete(lease: JobLease, outcome: JobOutcome): Promise<void> {
    this.check(`complete ${lease.jobId}`);
    const j = this.jobs.get(lease.jobId)!;
    j.state = "done";
    j.outcome = outcome;
    this.leases--;
  }

  async release(
    lease: JobLease,
    reason: string,
    opts: { inputTransferFailed?: boolean } = {},
  ): Promise<void> {
    this.check(`release ${lease.jobId} ${reason}`);
    const j = this.jobs.get(lease.jobId)!;
    j.state = "idle";
    j.releases++;
    if (opts.inputTransferFailed) j.inputTransferFailures++;
    this.leases--;
  }

  idle(): number {
    return [...this.jobs.values()].filter((j) => j.state === "idle").length;
  }
}

export class InMemoryAdvertiserDouble {
  readonly ads: ClassAd[] = [];
  /** The dynamic slots sent with each ad in `ads`, at the same index. */
  readonly dynamic: (readonly ClassAd[])[] = [];
  readonly invalidated: string[] = [];
  async advertise(ad: ClassAd, dynamic: readonly ClassAd[] = []): Promise<void> {
    this.ads.push(ad);
    this.dynamic.push(dynamic);
  }
  async invalidate(name: string): Promise<void> {
    this.invalidated.push(name);
  }
  last(): ClassAd | undefined {
    return this.ads[this.ads.length - 1];
  }
}
