/**
 * ReqRemoveExcess: which pilots the factory may remove when an entry has more than the group
 * wants. The configured type is the most that may be asked for; a lesser level is sent when only
 * that one has an excess, and "NO" when nothing exceeds the request by more than the margin:
 *
 * - `WAIT`: pilots still waiting in the site queue beyond ReqIdleGlideins + margin;
 * - `IDLE`: also registered pilots with nothing to run, beyond ReqIdleGlideins + margin;
 * - `ALL`:  also running pilots, when the entry's pilots exceed ReqMaxGlideins + margin.
 *
 * glideinWMS decides from how many cycles there were no idle jobs (state kept between cycles);
 * this is a pure function of one snapshot, so it compares counts with the request instead, as
 * glideinWMS's factory does with the margin when removal tracking is on.
 */
import type { RemovalType } from "./config.js";
import type { EntryDemand } from "./request-rules.js";

export interface RemovalRequest {
  type: RemovalType;
  margin: number;
  /** Pilots beyond request + margin at the level sent (0 with "NO"). */
  excess: number;
}

const LEVEL: Record<RemovalType, number> = { NO: 0, WAIT: 1, IDLE: 2, ALL: 3 };

export function computeRemoval(
  d: EntryDemand,
  reqIdle: number,
  reqMax: number,
  policy: { type: RemovalType; margin: number },
): RemovalRequest {
  const allowed = LEVEL[policy.type];
  const m = policy.margin;
  const candidates: [RemovalType, number][] = [
    ["ALL", d.pilots - (reqMax + m)],
    ["IDLE", d.queuedIdle + d.idleSlots - (reqIdle + m)],
    ["WAIT", d.queuedIdle - (reqIdle + m)],
  ];
  for (const [type, excess] of candidates) {
    if (LEVEL[type] <= allowed && excess > 0) return { type, margin: m, excess };
  }
  return { type: "NO", margin: m, excess: 0 };
}
