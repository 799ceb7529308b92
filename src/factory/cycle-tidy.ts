/** Housekeeping each cycle: old intents settled, holds released or removed, stale pilots removed. */
import type { EntryConfig } from "./config.js";
import { type CycleDeps, entryClientKey, groupByEntry, guarded } from "./cycle-deps.js";
import { type CycleBudgets, withinBudget } from "./entry-caps.js";
import { reconcile } from "./reconcile.js";
import { sanitize } from "./sanitize.js";
import type { PilotRow } from "./store.js";

/**
 * Intents still unsettled long after their submit (the adapter failed without an answer) are
 * settled against the adapter's listing, as at a restart, so they neither block requests forever
 * nor get submitted twice.
 */
async function settleOldIntents(
  d: CycleDeps,
  entries: ReadonlyMap<string, EntryConfig>,
  now: number,
): Promise<void> {
  // Intents are settled within the submit step that made them; nearly every cycle has none.
  if (!d.store.hasUnsubmitted()) return;
  const stale = new Set<string>();
  for (const p of d.store.live()) {
    if (p.state !== "Unsubmitted") continue;
    const e = entries.get(p.entry);
    const maxAge = (e?.stale ?? d.config.defaults.stale).unsubmitted_s * 1000;
    if (now - p.createdAt > maxAge) stale.add(p.entry);
  }
  if (stale.size === 0) return;
  const adapters = new Map([...d.adapters].filter(([entry]) => stale.has(entry)));
  const sum = await guarded(d.logger, [...stale].join(","), () =>
    reconcile(d.store, adapters, d.now, d.logger),
  );
  if (sum) d.logger.warn({ entries: [...stale], ...sum }, "settled old unsubmitted intents");
}

/**
 * Release recoverable holds with back-off, remove the rest and stale pilots, within the cycle's
 * per-entry budgets (what they defer is decided again next cycle).
 */
export async function tidy(
  d: CycleDeps,
  budgets: CycleBudgets,
): Promise<{ released: number; removed: number; deferred: number }> {
  const now = d.now();
  const entries = new Map(d.config.entries.map((e) => [e.name, e]));
  await settleOldIntents(d, entries, now);
  const staleMs = new Map<string, { idle: number; running: number; held: number }>();
  const live = d.store.live();
  const res = sanitize(
    live,
    {
      maxReleases: d.config.loop.max_releases,
      releaseBackoffMs: d.config.loop.release_backoff_s * 1000,
      stale(entry, client) {
        let ages = staleMs.get(entry);
        if (!ages) {
          const s = entries.get(entry)?.stale ?? d.config.defaults.stale;
          ages = { idle: s.idle_s * 1000, running: s.running_s * 1000, held: s.held_s * 1000 };
          staleMs.set(entry, ages);
        }
        const lifetime = d.idleLifetimes?.get(entryClientKey(entry, client));
        return lifetime ? { ...ages, idle: Math.min(ages.idle, lifetime) } : ages;
      },
    },
    now,
  );
  const rows = { get: (id: number) => d.store.liveById(id) };
  const releases = withinBudget(res.release, (id) => rows.get(id)!.entry, budgets.release);
  const toRelease: Readonly<PilotRow>[] = [];
  for (const id of releases.kept) {
    const p = rows.get(id)!;
    const adapter = d.adapters.get(p.entry);
    if (!adapter?.release || !adapter.capabilities.release || !p.handle) {
      res.remove.push({ id, reason: "held and the adapter cannot release" });
    } else toRelease.push(p);
  }
  let released = 0;
  for (const [entry, pilots] of groupByEntry(toRelease)) {
    const adapter = d.adapters.get(entry)!;
    const ok = await guarded(d.logger, entry, async () => {
      await adapter.release!(pilots.map((p) => p.handle!));
      return true;
    });
    if (!ok) continue;
    d.store.transaction(() => {
      for (const p of pilots) d.store.recordRelease(p.id, now, now);
    });
    released += pilots.length;
  }
  const capped = withinBudget(res.remove, (r) => rows.get(r.id)!.entry, budgets.remove);
  const deferred = releases.deferred.length + capped.deferred.length;
  if (deferred > 0) {
    d.logger.warn(
      { releases: releases.deferred.length, removals: capped.deferred.length },
      "per-cycle limits reached: the rest waits for the next cycle",
    );
  }
  const removals = capped.kept.map((r) => ({ ...r, pilot: rows.get(r.id)! }));
  d.store.transaction(() => {
    for (const r of removals) {
      d.store.markRemoveRequested([r.id], r.reason);
      if (!r.pilot.handle || !d.adapters.has(r.pilot.entry)) {
        d.store.applyStates([{ id: r.id, state: "Removed" }], now);
      }
    }
  });
  for (const [entry, list] of groupByEntry(removals.map((r) => ({ ...r, entry: r.pilot.entry })))) {
    d.logger.info({ entry, pilots: list.map((r) => [r.id, r.reason]) }, "removing pilots");
    const adapter = d.adapters.get(entry);
    const handles = list.flatMap((r) => r.pilot.handle ?? []);
    if (adapter && handles.length > 0)
      await guarded(d.logger, entry, () => adapter.remove(handles));
  }
  return { released, removed: removals.length, deferred };
}
