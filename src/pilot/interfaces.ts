/**
 * What the pilot's main loop needs from the outside world. The schedd and collector clients
 * implement these at integration; tests use in-memory doubles. Expected outcomes (no job, job
 * removed) are values; a thrown error means the peer could not be reached and the loop retries.
 */
import type { ClassAd } from "../classad/index.js";
import type { JobOutcome } from "./runner/run-job.js";

export interface JobLease {
  /** "cluster.proc". */
  jobId: string;
  /** Which schedd handed it out; reported back and shown in the report. */
  schedd: string;
  leaseId: string;
  ad: ClassAd;
  /** The job's own credential, already written to a file the job may read. */
  credentialFile?: string;
  /** Time the lease had left when the schedd handed it out (ms); heartbeats follow it. */
  leaseMs?: number;
}

/** The schedd's answer to a heartbeat: keep going, or stop the job and why. */
export type LeaseVerdict =
  /** leaseMs: time the renewed lease has left, when the schedd says. */
  | { action: "continue"; leaseMs?: number }
  | { action: "remove"; reason: string }
  | { action: "hold"; reason: string }
  /** The lease lapsed and the job went back to the queue: running on would duplicate it. */
  | { action: "lost" };

export interface JobSource {
  /** A display name (the schedd's). */
  readonly name: string;
  /**
   * Ask for one job that matches the slot ad; undefined when there is none. With `waitS`, the
   * schedd holds the question that long for a job to arrive (a long poll); `signal` gives up.
   * `slotNumber` is N of the dynamic slot `slot1_N` the job will get (the job's RemoteHost).
   */
  claim(
    slotAd: ClassAd,
    wait?: { waitS: number; signal?: AbortSignal },
    slotNumber?: number,
  ): Promise<JobLease | undefined>;
  /**
   * Ask for up to `max` jobs at once, each fitting what the slot has left after those before it;
   * empty when there is none. They get dynamic slots `slotNumber`, `slotNumber + 1`, ... in
   * order. Optional: a source without it is asked one job at a time.
   */
  claimMany?(
    slotAd: ClassAd,
    max: number,
    wait?: { waitS: number; signal?: AbortSignal },
    slotNumber?: number,
  ): Promise<JobLease[]>;
  heartbeat(lease: JobLease): Promise<LeaseVerdict>;
  /** Fetch the job's input files into its sandbox before it starts. */
  stageIn(lease: JobLease, sandboxDir: string): Promise<void>;
  /** Upload outputs and report the outcome; the lease ends. */
  complete(lease: JobLease, outcome: JobOutcome, sandboxDir: string): Promise<void>;
  /**
   * Give the job back to the queue unrun (pilot stopping, it did not fit, or its inputs did not
   * arrive: say so, the schedd holds a job whose inputs keep failing).
   */
  release(lease: JobLease, reason: string, opts?: { inputTransferFailed?: boolean }): Promise<void>;
  /**
   * False while the schedd is known to be down (its connection dropped and not back): a call
   * now would only wait for its deadline, so the pilot skips it. Absent: always reachable.
   */
  reachable?(): boolean;
}

/** How long a collector call may take, when the pilot cannot wait for the default. */
export interface WriteOptions {
  deadlineMs?: number;
}

export interface SlotAdvertiser {
  /** The partitionable slot's ad and its running jobs' dynamic slots, in one update. */
  advertise(ad: ClassAd, dynamic?: readonly ClassAd[]): Promise<void>;
  invalidate(name: string, opts?: WriteOptions): Promise<void>;
  /** False while every collector is known to be down (see JobSource.reachable). */
  reachable?(): boolean;
}
