/**
 * What a cycle does once `decide` has spoken, pure: which removals fit this cycle's budget,
 * which submissions go ahead and which wait (an entry paused for failing validation, or backing
 * off a refusing CE), the clients' idle lifetimes, and the client status rows; then, from the
 * submissions' outcomes, each entry's back-off. The cycle applies it (cycle-apply.ts).
 */
import { entryClientKey } from "./cycle-deps.js";
import type { ClientRequest, Decision, PilotRemoval, Refusal } from "./decide-types.js";
import { afterSubmit, backingOff, type EntryBackoff } from "./entry-backoff.js";
import type { ClientStatusRow } from "./store.js";
import { pauseReason, type ValidationBackoff } from "./validation-backoff.js";

export interface CyclePlanInputs {
  now: number;
  decision: Decision;
  /** The accepted and refused requests of this cycle. */
  requests: readonly ClientRequest[];
  /** Entries the factory has an adapter for; decisions at others are not acted on. */
  hasAdapter: (entry: string) => boolean;
  /** Removals the entry may still make this cycle (its cap less what housekeeping spent). */
  removeLeft: (entry: string) => number;
  backoff?: ReadonlyMap<string, EntryBackoff>;
  validationBackoff?: ReadonlyMap<string, ValidationBackoff>;
}

export interface PlannedRemoval {
  entry: string;
  client: string;
  remove: PilotRemoval[];
  /** Removals decided but left for the next cycle by `remove.max_per_cycle`. */
  deferred: number;
}

/** A submission that waits, and why (recorded as the client's last error). */
export interface HeldSubmission {
  entry: string;
  client: string;
  why: "validation_paused" | "backing_off";
  message: string;
  until?: number;
}

export interface PlannedSubmission {
  entry: string;
  client: string;
  count: number;
}

export interface CyclePlan {
  /** Idle lifetime (ms) by entryClientKey, from the accepted requests that set one. */
  idleLifetimes: Map<string, number>;
  refused: readonly Refusal[];
  removals: PlannedRemoval[];
  held: HeldSubmission[];
  submissions: PlannedSubmission[];
  clientStatus: ClientStatusRow[];
}

export function planCycle(x: CyclePlanInputs): CyclePlan {
  const { now, decision } = x;
  const refusedKeys = new Set(decision.refused.map((r) => entryClientKey(r.entry, r.client)));
  const idleLifetimes = new Map<string, number>();
  for (const r of x.requests) {
    const key = entryClientKey(r.entry, r.client);
    const s = r.idleLifetimeS ?? 0;
    if (s > 0 && !refusedKeys.has(key)) idleLifetimes.set(key, s * 1000);
  }
  const removedNow = new Map<string, number>();
  const removals: PlannedRemoval[] = [];
  const held: HeldSubmission[] = [];
  const submissions: PlannedSubmission[] = [];
  for (const c of decision.clients) {
    if (!x.hasAdapter(c.entry)) continue;
    const spent = removedNow.get(c.entry) ?? 0;
    const n = Math.max(0, Math.min(c.remove.length, x.removeLeft(c.entry) - spent));
    removedNow.set(c.entry, spent + n);
    if (c.remove.length > 0) {
      removals.push({
        entry: c.entry,
        client: c.client,
        remove: c.remove.slice(0, n),
        deferred: c.remove.length - n,
      });
    }
    if (c.submit <= 0) continue;
    const paused = pauseReason(x.validationBackoff?.get(c.entry), now);
    const b = x.backoff?.get(c.entry);
    if (paused) {
      held.push({ entry: c.entry, client: c.client, why: "validation_paused", message: paused });
    } else if (b && backingOff(b, now)) {
      const message =
        `not submitting until ${new Date(b.until).toISOString()}: the last ${b.failures} ` +
        `cycle(s) of submissions all failed (${b.lastError ?? "?"})`;
      held.push({ entry: c.entry, client: c.client, why: "backing_off", message, until: b.until });
    } else {
      submissions.push({ entry: c.entry, client: c.client, count: c.submit });
    }
  }
  return {
    idleLifetimes,
    refused: decision.refused,
    removals,
    held,
    submissions,
    clientStatus: clientStatusRows(decision, now),
  };
}

function clientStatusRows(decision: Decision, at: number): ClientStatusRow[] {
  return [
    ...decision.clients.map((c) => ({
      entry: c.entry,
      client: c.client,
      frontend: c.frontend,
      reqIdle: c.reqIdle,
      reqMax: c.reqMax,
      limitsHit: c.limitsHit.join(","),
      at,
    })),
    ...decision.refused.map((r) => ({
      entry: r.entry,
      client: r.client,
      frontend: r.frontend,
      reqIdle: 0,
      reqMax: 0,
      limitsHit: "",
      refused: r.reason,
      at,
    })),
  ];
}

export interface SubmitOutcome {
  entry: string;
  submitted: number;
  failed: number;
  lastError?: string;
}

/**
 * Each entry's back-off after this cycle's submissions, for the entries in `outcomes` only
 * (`next` undefined: it no longer backs off), with how many of its submissions failed.
 */
export function backoffAfter(
  prev: ReadonlyMap<string, EntryBackoff>,
  outcomes: readonly SubmitOutcome[],
  now: number,
): Map<string, { next?: EntryBackoff; failed: number }> {
  const byEntry = new Map<string, { submitted: number; failed: number; error?: string }>();
  for (const o of outcomes) {
    const sum = byEntry.get(o.entry) ?? { submitted: 0, failed: 0 };
    sum.submitted += o.submitted;
    sum.failed += o.failed;
    sum.error ??= o.lastError;
    byEntry.set(o.entry, sum);
  }
  const out = new Map<string, { next?: EntryBackoff; failed: number }>();
  for (const [entry, sum] of byEntry) {
    out.set(entry, { next: afterSubmit(prev.get(entry), sum, now), failed: sum.failed });
  }
  return out;
}
