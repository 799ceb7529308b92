/**
 * The group's pilots per entry: registered slots (from Slot ads, or already-summarised counts)
 * and the factory's view of pilots still queued or held. An idle core counts as capacity only if
 * a job can use it: the slot is not retiring and has memory left for at least one core of the
 * least demanding job that matches the entry.
 */
import type { Snapshot } from "./snapshot.js";

export interface PilotCounts {
  idleSlots: number;
  runningSlots: number;
  totalSlots: number;
  /** Idle cores a matching job could start on now. */
  usableIdleCores: number;
  /** Factory's view: queued at the site, running, held. */
  queuedIdle: number;
  factoryRunning: number;
  held: number;
}

const empty = (): PilotCounts => ({
  idleSlots: 0,
  runningSlots: 0,
  totalSlots: 0,
  usableIdleCores: 0,
  queuedIdle: 0,
  factoryRunning: 0,
  held: 0,
});

/** Cores of an idle slot that a job needing `memPerCore` MB per core could use. */
export function usableCores(
  slot: { cpus: number; memory: number; retiring: boolean },
  memPerCore: number,
): number {
  if (slot.retiring) return 0;
  if (!Number.isFinite(memPerCore) || memPerCore <= 0) return slot.cpus;
  return Math.min(slot.cpus, Math.floor(slot.memory / memPerCore));
}

/**
 * Counts for each entry of `entryNames` (GlideFactory ad Names), for one group.
 * `minMemoryPerCore[i]` is the smallest memory per core wanted by jobs matching entry i.
 */
export function countPilots(
  snapshot: Snapshot,
  group: string,
  entryNames: readonly string[],
  minMemoryPerCore: Float64Array,
): PilotCounts[] {
  const index = new Map(entryNames.map((n, i) => [n, i]));
  const out = entryNames.map(empty);
  for (const s of snapshot.slots) {
    if (s.group !== group) continue;
    const i = index.get(s.entry);
    if (i === undefined) continue;
    const c = out[i]!;
    c.totalSlots++;
    if (s.state === "busy") c.runningSlots++;
    else c.idleSlots++;
    // A partitionable pilot running jobs may still have cores and memory for more.
    c.usableIdleCores += usableCores(s, minMemoryPerCore[i]!);
  }
  for (const s of snapshot.slot_counts) {
    if (s.group !== group) continue;
    const i = index.get(s.entry);
    if (i === undefined) continue;
    const c = out[i]!;
    c.idleSlots += s.idle;
    c.runningSlots += s.running;
    c.totalSlots += s.total;
    c.usableIdleCores += s.idle_cores_usable;
  }
  for (const f of snapshot.factory_clients) {
    if (f.group !== group) continue;
    const i = index.get(f.entry);
    if (i === undefined) continue;
    const c = out[i]!;
    c.queuedIdle += f.idle;
    c.factoryRunning += f.running;
    c.held += f.held;
  }
  return out;
}

/**
 * Pilots at an entry: the running ones are seen by the collector (slots) and by the factory;
 * take the larger (a pilot may run before it registers) and add those still queued.
 */
export function pilotsAtEntry(c: PilotCounts): number {
  return Math.max(c.totalSlots, c.factoryRunning) + c.queuedIdle;
}
