/**
 * Pure housekeeping decisions on tracked pilots: release recoverable holds a limited number of
 * times with doubling back-off, remove unrecoverable or exhausted holds, and remove pilots that
 * stayed too long in one state (glideinWMS "stale" pilots).
 */
import type { PilotRow } from "./store.js";

export interface SanitizePolicy {
  maxReleases: number;
  releaseBackoffMs: number;
  /** Stale ages per entry (and client, for the idle age), in ms. */
  stale(entry: string, client: string): { idle: number; running: number; held: number };
}

export interface SanitizeResult {
  release: number[];
  remove: { id: number; reason: string }[];
}

export function sanitize(
  pilots: readonly PilotRow[],
  policy: SanitizePolicy,
  now: number,
): SanitizeResult {
  const out: SanitizeResult = { release: [], remove: [] };
  for (const p of pilots) {
    if (p.removeReason) continue; // already being removed
    const stale = policy.stale(p.entry, p.client);
    const age = now - p.stateChangedAt;
    if (p.state === "Held") {
      if (!p.holdRecoverable)
        out.remove.push({ id: p.id, reason: `unrecoverable hold: ${p.holdReason ?? ""}` });
      else if (p.releases >= policy.maxReleases)
        out.remove.push({ id: p.id, reason: "held again after every release" });
      else if (age > stale.held) out.remove.push({ id: p.id, reason: "stale held" });
      else if (age >= policy.releaseBackoffMs * 2 ** p.releases) out.release.push(p.id);
    } else if (p.state === "Idle" && now - (p.submittedAt ?? p.createdAt) > stale.idle) {
      out.remove.push({ id: p.id, reason: "stale idle" });
    } else if (p.state === "Running" && age > stale.running) {
      out.remove.push({ id: p.id, reason: "stale running" });
    }
  }
  return out;
}
