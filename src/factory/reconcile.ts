/**
 * Re-attaching to pilots after a restart: match what the database says against what each
 * adapter still has, by intent id and handle, so every pilot is tracked exactly once.
 */
import type { Logger } from "../common/logger.js";
import { type GridAdapter, toPilotState } from "./adapters/types.js";
import type { FactoryStore, StateChange } from "./store.js";

export interface ReconcileSummary {
  attached: number;
  neverSubmitted: number;
  lost: number;
  orphansRemoved: number;
}

export async function reconcile(
  store: FactoryStore,
  /** By entry name: each entry has its own adapter instance and state directory. */
  adapters: ReadonlyMap<string, GridAdapter>,
  now: () => number,
  log: Logger,
): Promise<ReconcileSummary> {
  const sum: ReconcileSummary = { attached: 0, neverSubmitted: 0, lost: 0, orphansRemoved: 0 };
  const live = store.live();
  for (const [entry, adapter] of adapters) {
    const recovered = await adapter.recover();
    const byIntent = new Map(recovered.map((r) => [r.intentId, r]));
    const known = new Set<string>();
    const attach: { id: number; handle: string }[] = [];
    const changes: StateChange[] = [];
    for (const p of live.filter((p) => p.entry === entry)) {
      const r = byIntent.get(p.id);
      if (p.state === "Unsubmitted") {
        if (r) {
          attach.push({ id: p.id, handle: r.handle });
          known.add(r.handle);
          changes.push(statusChange(p.id, r.status));
          sum.attached++;
        } else {
          changes.push({ id: p.id, state: "Removed", holdReason: "never submitted" });
          sum.neverSubmitted++;
        }
        continue;
      }
      if (p.handle && r?.handle === p.handle) {
        known.add(p.handle);
        continue;
      }
      changes.push({
        id: p.id,
        state: "Lost",
        holdReason: "not known to the adapter after restart",
      });
      sum.lost++;
    }
    store.recordSubmitted(attach, now());
    store.applyStates(changes, now());
    // Pilots the adapter has but the database does not: nobody would ever watch them.
    const tracked = new Set(
      store.all().flatMap((p) => (p.entry === entry && p.handle ? [p.handle] : [])),
    );
    const orphans = recovered.filter(
      (r) =>
        !tracked.has(r.handle) &&
        (r.status.state === "Idle" || r.status.state === "Running" || r.status.state === "Held"),
    );
    if (orphans.length > 0) {
      log.warn(
        { entry, handles: orphans.map((o) => o.handle) },
        "removing pilots the database does not know",
      );
      await adapter.remove(orphans.map((o) => o.handle));
      sum.orphansRemoved += orphans.length;
    }
  }
  return sum;
}

export function statusChange(
  id: number,
  s: {
    state: Parameters<typeof toPilotState>[0];
    waiting?: boolean;
    holdReason?: string;
    holdRecoverable?: boolean;
    exitCode?: number;
  },
): StateChange {
  return {
    id,
    state: toPilotState(s.state),
    waiting: s.waiting,
    holdReason: s.holdReason ?? null,
    holdRecoverable: s.holdRecoverable,
    exitCode: s.exitCode ?? null,
  };
}
