/** Tagged outcomes of queue operations (expected outcomes are values, not exceptions). */
import type { JobAttrs, JobId } from "./job-status.js";

export type SubmitResult =
  | { ok: true; clusterId: number; count: number }
  | {
      ok: false;
      code: "not-found" | "permission-denied" | "already-exists" | "invalid-argument";
      message: string;
    };

export type ClaimResult =
  /** `attrs`: the job as the pilot runs it, its match-time macros filled from the slot. */
  | { matched: true; jobId: JobId; attrs: JobAttrs; leaseId: string; leaseExpires: number }
  | { matched: false };

export type LeaseRefusal = {
  ok: false;
  /**
   * unknown-lease: never issued; stale-lease: lapsed, killed or released; duplicate-completion
   * and duplicate-release: the lease already ended that way.
   */
  reason:
    "unknown-lease" | "stale-lease" | "duplicate-completion" | "duplicate-release" | "wrong-pilot";
  message: string;
};

export type HeartbeatResult =
  | { ok: true; action: "continue"; leaseExpires: number; proxyExpiration: number }
  | { ok: true; action: "kill"; reason: string }
  | LeaseRefusal;

export type CompleteResult = { ok: true; jobStatus: number } | LeaseRefusal;

export type ReleaseResult = { ok: true; jobStatus: number } | LeaseRefusal;

export interface ActOutcome {
  done: JobId[];
  refused: { id: JobId; reason: string }[];
}
