/**
 * Which pilots to remove for a client that has more than it asked for, following glideinWMS's
 * `ReqRemoveExcess` levels, each including the one before:
 *  - `NO`: remove nothing.
 *  - `WAIT`: remove idle pilots that have not yet reached the remote system ("waiting").
 *  - `IDLE`: also idle pilots queued at the site.
 *  - `ALL`: also running pilots beyond `ReqMaxGlideins`, and held pilots along with them.
 * Only one kind is removed per cycle, most specific first, so the next cycle sees the effect
 * before anything more drastic happens. The margin is how many idle pilots above the request
 * are tolerated before removing.
 */
import type { ClientCounts, PilotRemoval, RemoveExcess, TrackedPilot } from "./decide-types.js";

export interface ExcessInput {
  mode: RemoveExcess;
  margin: number;
  reqIdle: number;
  reqMax: number;
  counts: ClientCounts;
  /** This client's pilots on this entry. */
  pilots: readonly TrackedPilot[];
}

/** Newest first: the pilots least likely to be about to start. */
function newestFirst(a: TrackedPilot, b: TrackedPilot): number {
  return (b.submittedAt ?? b.createdAt ?? 0) - (a.submittedAt ?? a.createdAt ?? 0) || b.id - a.id;
}

export function decideRemovals(x: ExcessInput): PilotRemoval[] {
  const wait = x.mode !== "NO";
  const idleToo = x.mode === "IDLE" || x.mode === "ALL";
  const runningToo = x.mode === "ALL";
  const { idle, running, held } = x.counts;

  const idleExcess = wait && idle > x.reqIdle + x.margin;
  const runExcess = runningToo && running + idle > x.reqMax + x.margin;
  if (idleExcess || runExcess) {
    let n = idle - x.reqIdle - x.margin;
    // Past the maximum, the idle request no longer makes sense: cut back to the maximum.
    if (runExcess && running + x.reqIdle > x.reqMax) n = running + idle - x.reqMax - x.margin;
    if (n <= 0) return [];

    const idlePilots = x.pilots.filter((p) => p.state === "Idle").sort(newestFirst);
    const waiting = idlePilots.filter((p) => p.waiting === true);
    if (waiting.length > 0) {
      return waiting.slice(0, n).map((p) => ({ pilotId: p.id, reason: "excess_waiting" }));
    }
    if (idleToo && idlePilots.length > 0) {
      return idlePilots.slice(0, n).map((p) => ({ pilotId: p.id, reason: "excess_idle" }));
    }
    if (runningToo) {
      const runningPilots = x.pilots.filter((p) => p.state === "Running").sort(newestFirst);
      return [
        ...runningPilots
          .slice(0, n)
          .map((p) => ({ pilotId: p.id, reason: "excess_running" as const })),
        ...heldRemovals(x.pilots),
      ];
    }
    return [];
  }
  // Nothing wanted at all: held pilots are of no use to anyone.
  if (runningToo && x.reqMax === 0 && held > 0) return heldRemovals(x.pilots);
  return [];
}

function heldRemovals(pilots: readonly TrackedPilot[]): PilotRemoval[] {
  return pilots
    .filter((p) => p.state === "Held")
    .map((p) => ({ pilotId: p.id, reason: "excess_held" as const }));
}

/** Unknown levels are treated as `NO`, as glideinWMS does. */
export function parseRemoveExcess(text: string | undefined): RemoveExcess {
  const t = (text ?? "NO").toUpperCase();
  return t === "WAIT" || t === "IDLE" || t === "ALL" ? t : "NO";
}
