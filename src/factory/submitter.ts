/**
 * The submit protocol. It never submits a pilot twice and never loses one across a crash:
 *  1. record every pilot as an `Unsubmitted` intent, in one transaction (synchronous=FULL);
 *  2. submit through the adapter, each pilot tagged with its intent id;
 *  3. record the handles, in one transaction.
 * A crash between 1 and 3 leaves intents that `reconcile` (at start) matches against the
 * adapter's `recover()` listing by intent id: found means submitted, not found means never
 * submitted (closed, not retried: the next cycle decides afresh).
 */
import type { GridAdapter, PilotSpec } from "./adapters/types.js";
import type { FactoryStore, PilotIntent } from "./store.js";

export interface SubmitRequest {
  intent: PilotIntent;
  /** The n-th pilot's intent when pilots differ (each its own credential); else `intent`. */
  intentAt?: (n: number) => PilotIntent;
  count: number;
  clusterSize: number;
  /** The n-th pilot's spec once its intent id is known. */
  spec(intentId: number, n: number): PilotSpec;
}

export interface SubmitSummary {
  submitted: number;
  failed: number;
  lastError?: string;
}

export interface SubmitJob {
  adapter: GridAdapter;
  req: SubmitRequest;
}

/**
 * Submit every job of a cycle: all intents in one transaction, the adapters' submits (entries in
 * parallel), then all handles in one transaction; one durable write on each side of the submits.
 */
export async function submitAll(
  store: FactoryStore,
  jobs: readonly SubmitJob[],
  now: () => number,
): Promise<SubmitSummary[]> {
  const live = jobs.filter((j) => j.req.count > 0);
  // Every job's intents in one call (a cycle has thousands of jobs of one pilot each), then
  // split back into each job's ids.
  const intents: PilotIntent[] = [];
  for (const j of live) {
    for (let n = 0; n < j.req.count; n++) intents.push(j.req.intentAt?.(n) ?? j.req.intent);
  }
  const allIds = store.recordIntents(intents, now());
  let from = 0;
  const ids = live.map((j) => allIds.slice(from, (from += j.req.count)));
  const outcomes = await Promise.all(live.map((j, i) => submitChunks(j, ids[i]!)));
  const done = outcomes.flatMap((o) => o.done);
  const failed = outcomes.flatMap((o) => o.failed);
  // Relaxed: if the machine loses these handles, their intents are on disk and reconcile finds
  // the pilots by intent id, as after a crash between 2 and 3.
  store.transaction(() => {
    store.recordSubmitted(done, now());
    if (failed.length > 0) {
      store.markRemoveRequested(
        failed.map((f) => f.id),
        "submit failed",
      );
      store.applyStates(
        failed.map((f) => ({ id: f.id, state: "Removed", holdReason: f.error })),
        now(),
      );
    }
  }, "relaxed");
  const byJob = new Map(live.map((j, i) => [j, outcomes[i]!]));
  return jobs.map((j) => {
    const o = byJob.get(j);
    if (!o) return { submitted: 0, failed: 0 };
    return {
      submitted: o.done.length,
      failed: o.failed.length + o.unsettled,
      lastError: o.failed[0]?.error ?? o.error,
    };
  });
}

interface ChunkOutcome {
  done: { id: number; handle: string }[];
  failed: { id: number; error: string }[];
  /** Intents whose fate the adapter could not tell; reconcile settles them. */
  unsettled: number;
  error?: string;
}

async function submitChunks(job: SubmitJob, ids: readonly number[]): Promise<ChunkOutcome> {
  const { adapter, req } = job;
  const size = Math.max(1, Math.min(req.clusterSize, adapter.capabilities.maxBatch));
  const out: ChunkOutcome = { done: [], failed: [], unsettled: 0 };
  for (let i = 0; i < ids.length; i += size) {
    const chunk = ids.slice(i, i + size);
    let results;
    try {
      results = await adapter.submit(chunk.map((id, k) => req.spec(id, i + k)));
    } catch (err) {
      // The adapter could not say what happened: leave the intents for reconcile to settle.
      out.error = (err as Error).message;
      out.unsettled += ids.length - i;
      break;
    }
    for (const r of results) {
      if (r.ok) out.done.push({ id: r.intentId, handle: r.handle });
      else out.failed.push({ id: r.intentId, error: r.error });
    }
  }
  return out;
}
