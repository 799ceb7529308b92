/**
 * Lease bookkeeping, pure: new lease ids and expiries, what a pilot's heartbeat or completion
 * means for a lease in a given state, and which running jobs' leases have lapsed at `now`.
 */
import { randomBytes } from "node:crypto";
import type { LeaseRefusal } from "./results.js";

export interface LeaseView {
  id: string;
  identity: string;
  state: "active" | "completed" | "lapsed" | "killed" | "released";
  endReason: string | null;
}

/**
 * Time-ordered lease ids (ms, base 36, then 64 random bits): new leases land at the end of the
 * leases table's b-tree instead of on a random page, which keeps every claim's commit small.
 */
export function newLeaseId(nowMs: number): string {
  return `${nowMs.toString(36).padStart(9, "0")}-${randomHex8()}`;
}

// One call into the CSPRNG per 512 leases rather than per lease.
let pool = Buffer.alloc(0);
let at = 0;

function randomHex8(): string {
  if (at + 8 > pool.length) {
    pool = randomBytes(4096);
    at = 0;
  }
  at += 8;
  return pool.toString("hex", at - 8, at);
}

export function leaseExpiry(nowMs: number, leaseMs: number): number {
  return nowMs + leaseMs;
}

function refusal(reason: LeaseRefusal["reason"], message: string): LeaseRefusal {
  return { ok: false, reason, message };
}

/** Refused unless the lease exists, belongs to the caller and was not completed already. */
function notOwnOpenLease(
  id: string,
  lease: LeaseView | undefined,
  identity: string,
): LeaseRefusal | undefined {
  if (!lease) return refusal("unknown-lease", `no lease ${id}`);
  if (lease.identity !== identity) {
    return refusal("wrong-pilot", `lease ${id} was issued to another pilot`);
  }
  if (lease.state === "completed") {
    return refusal("duplicate-completion", `lease ${id} was already completed`);
  }
  return undefined;
}

/** A heartbeat: extend (active), tell the pilot to kill (lapsed or killed), or refuse. */
export function heartbeatVerdict(
  id: string,
  lease: LeaseView | undefined,
  identity: string,
): LeaseRefusal | { ok: true; action: "extend" } | { ok: true; action: "kill"; reason: string } {
  const refused = notOwnOpenLease(id, lease, identity);
  if (refused) return refused;
  if (lease!.state !== "active") {
    return { ok: true, action: "kill", reason: lease!.endReason ?? `lease ${lease!.state}` };
  }
  return { ok: true, action: "extend" };
}

/** A completion is accepted once, for an active lease of the calling pilot. */
export function completionVerdict(
  id: string,
  lease: LeaseView | undefined,
  identity: string,
): LeaseRefusal | { ok: true } {
  const refused = notOwnOpenLease(id, lease, identity);
  if (refused) return refused;
  if (lease!.state !== "active") {
    return refusal("stale-lease", `lease ${id} is ${lease!.state}: ${lease!.endReason ?? ""}`);
  }
  return { ok: true };
}

/**
 * A pilot handing its lease back early (it is stopping): accepted once, for an active lease of
 * the calling pilot. A second release, or one after the lease completed, is a duplicate; a lease
 * that lapsed or was killed meanwhile is stale (its job is no longer this pilot's to give back).
 */
export function releaseVerdict(
  id: string,
  lease: LeaseView | undefined,
  identity: string,
): LeaseRefusal | { ok: true } {
  const refused = notOwnOpenLease(id, lease, identity);
  if (refused) return refused;
  if (lease!.state === "released") {
    return refusal("duplicate-release", `lease ${id} was already released`);
  }
  if (lease!.state !== "active") {
    return refusal("stale-lease", `lease ${id} is ${lease!.state}: ${lease!.endReason ?? ""}`);
  }
  return { ok: true };
}

/** Running jobs whose lease expired at or before `now`. */
export function lapsedLeases<T extends { leaseExpires: number; running: boolean }>(
  jobs: Iterable<T>,
  nowMs: number,
): T[] {
  const out: T[] = [];
  for (const j of jobs) if (j.running && j.leaseExpires <= nowMs) out.push(j);
  return out;
}
