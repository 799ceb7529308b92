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
  count: number;
  clusterSize: number;
  /** The pilot's spec once its intent id is known. */
  spec(intentId: number): PilotSpec;
}

export interface SubmitSummary {
  submitted: number;
  failed: number;
  lastError?: string;
}

export async function submitPilots(
  store: FactoryStore,
  adapter: GridAdapter,
  req: SubmitRequest,
  now: () => number,
): Promise<SubmitSummary> {
  if (req.count <= 0) return { submitted: 0, failed: 0 };
  const ids = store.recordIntents(
    Array.from({ length: req.count }, () => req.intent),
    now(),
  );
  const size = Math.max(1, Math.min(req.clusterSize, adapter.capabilities.maxBatch));
  const summary: SubmitSummary = { submitted: 0, failed: 0 };
  for (let i = 0; i < ids.length; i += size) {
    const chunk = ids.slice(i, i + size);
    let results;
    try {
      results = await adapter.submit(chunk.map((id) => req.spec(id)));
    } catch (err) {
      // The adapter could not say what happened: leave the intents for reconcile to settle.
      summary.lastError = (err as Error).message;
      summary.failed += chunk.length;
      break;
    }
    const done = results.flatMap((r) => (r.ok ? [{ id: r.intentId, handle: r.handle }] : []));
    store.recordSubmitted(done, now());
    const failed = results.filter((r) => !r.ok);
    if (failed.length > 0) {
      const ids = failed.map((r) => r.intentId);
      store.markRemoveRequested(ids, "submit failed");
      store.applyStates(
        failed.map((r) => ({
          id: r.intentId,
          state: "Removed",
          holdReason: r.ok ? null : r.error,
        })),
        now(),
      );
      summary.lastError = failed[0]!.ok ? undefined : failed[0]!.error;
    }
    summary.submitted += done.length;
    summary.failed += failed.length;
  }
  return summary;
}
