/**
 * One factory cycle: observe (poll adapters, fetch finished output), tidy (holds, stale pilots),
 * decide and plan (pure, from a snapshot: see decide.ts and cycle-plan.ts), apply (remove, then
 * submit through the intent protocol: cycle-apply.ts), and advertise. Each step's IO errors are
 * logged and counted; one entry's failure does not stop the others.
 */
import { removeUnusedCredentials } from "./credentials.js";
import { removeExpiredSubmitTokens } from "./submit-tokens.js";
import { advertise } from "./cycle-advertise.js";
import { applyRefusals, applyRemovals, applySubmissions } from "./cycle-apply.js";
import { type CycleDeps, entryConfig } from "./cycle-deps.js";
import { cycleBudgets } from "./entry-caps.js";
import { collectOutputs, pollStatus } from "./cycle-observe.js";
import { planCycle } from "./cycle-plan.js";
import { recordCoreTime } from "./pilot-core-time.js";
import { readRequests } from "./cycle-requests.js";
import { tidy } from "./cycle-tidy.js";
import { decide } from "./decide.js";
import type { Decision } from "./decide-types.js";
import { entryPolicy, securityClasses } from "./policy.js";

export type { CycleDeps } from "./cycle-deps.js";
export { pollStatus } from "./cycle-observe.js";

export interface CycleReport {
  submitted: number;
  removed: number;
  refused: number;
  released: number;
  finished: number;
  decision: Decision;
  /** Milliseconds per step, for the log and to see where a slow cycle goes. */
  timings: Record<string, number>;
}

export async function runCycle(d: CycleDeps): Promise<CycleReport> {
  const timings: Record<string, number> = {};
  let mark = performance.now();
  const lap = (step: string) => {
    const t = performance.now();
    timings[step] = Math.round(t - mark);
    mark = t;
  };
  // Before the poll: the pilots it last saw running ran until now.
  recordCoreTime(d);
  await pollStatus(d);
  lap("poll");
  const finished = await collectOutputs(d);
  lap("outputs");
  const budgets = cycleBudgets((entry) => entryCaps(d, entry));
  const tidied = await tidy(d, budgets);
  lap("tidy");

  const parsed = await readRequests(d);
  lap("read_requests");
  const now = d.now();
  const decision = decide({
    now,
    entries: d.config.entries.map((e) => entryPolicy(d.config, e)),
    securityClasses: securityClasses(d.config),
    downtimes: d.store.downtimes(),
    requests: parsed.map((p) => p.request),
    // Rows are TrackedPilots already. Pilots being removed no longer count: otherwise a slow
    // removal would make the next cycle remove the same excess again from other pilots.
    pilots: d.store.live().filter((p) => p.removeReason === null),
  });
  const plan = planCycle({
    now,
    decision,
    requests: parsed.map((p) => p.request),
    hasAdapter: (entry) => d.adapters.has(entry),
    removeLeft: (entry) => entryCaps(d, entry).remove - budgets.remove.spent(entry),
    backoff: d.backoff,
    validationBackoff: d.validationBackoff,
  });
  lap("decide");
  applyRefusals(d, plan);
  const removed = await applyRemovals(d, plan);
  lap("remove");
  const submitted = await applySubmissions(d, plan, parsed, now);
  lap("submit");
  forgetCredentials(d);
  d.store.recordClientStatus(plan.clientStatus);
  lap("client_status");
  await advertise(d, decision);
  lap("advertise");
  return {
    submitted,
    removed: tidied.removed + removed,
    refused: plan.refused.length,
    released: tidied.released,
    finished,
    decision,
    timings,
  };
}

/** The entry's per-cycle removal and release caps (the factory defaults for unknown entries). */
function entryCaps(d: CycleDeps, entry: string): { remove: number; release: number } {
  const e = entryConfig(d, entry);
  return {
    remove: (e?.remove ?? d.config.defaults.remove).max_per_cycle,
    release: (e?.release ?? d.config.defaults.release).max_per_cycle,
  };
}

/**
 * Decrypted credentials that no request of the last two cycles named and no pilot that may still
 * run uses are deleted: a proxy on disk is only as safe as the directory it sits in. So are
 * CE tokens that have expired, which nothing can use any more.
 */
function forgetCredentials(d: CycleDeps): void {
  const keep = d.credentialCache?.ids() ?? new Set<string>();
  for (const id of d.store.liveCredentialIds()) keep.add(id);
  try {
    const expired = removeExpiredSubmitTokens(d.credentialDir, Math.floor(d.now() / 1000));
    if (expired > 0) d.logger.info({ files: expired }, "deleted expired CE tokens");
    const n = removeUnusedCredentials(d.credentialDir, keep);
    if (n > 0) d.logger.info({ files: n }, "deleted credentials no pilot or request uses");
  } catch (err) {
    d.logger.warn({ err }, "could not delete unused credentials");
  }
  d.credentialCache?.endCycle();
}
