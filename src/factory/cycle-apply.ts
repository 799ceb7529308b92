/**
 * The IO of a planned cycle (see cycle-plan.ts): count and log refusals, remove pilots, record
 * why submissions wait, submit through the intent protocol, and record what came of it. One
 * entry's adapter failing is logged and does not stop the others.
 */
import type { ParsedRequest } from "./client-requests.js";
import { type CycleDeps, entryClientKey, guarded } from "./cycle-deps.js";
import { prepareSubmit } from "./cycle-requests.js";
import { backoffAfter, type CyclePlan } from "./cycle-plan.js";
import { type SubmitJob, submitAll } from "./submitter.js";

export function applyRefusals(d: CycleDeps, plan: CyclePlan): void {
  if (d.idleLifetimes) {
    d.idleLifetimes.clear();
    for (const [key, ms] of plan.idleLifetimes) d.idleLifetimes.set(key, ms);
  }
  if (plan.refused.length === 0) return;
  d.store.transaction(() => {
    for (const r of plan.refused) d.store.count(r.entry, r.client, "refused");
  }, "relaxed");
  for (const r of plan.refused) {
    d.logger.warn(
      {
        entry: r.entry,
        client: r.client,
        securityClass: r.securityClass,
        identity: r.authenticatedIdentity,
        reason: r.reason,
      },
      "GlideClient request refused",
    );
  }
}

/** Removes the planned pilots; returns how many were asked to go. */
export async function applyRemovals(d: CycleDeps, plan: CyclePlan): Promise<number> {
  let removed = 0;
  for (const r of plan.removals) {
    if (r.deferred > 0) {
      d.logger.warn(
        { entry: r.entry, client: r.client, deferred: r.deferred },
        "remove.max_per_cycle reached: the rest waits for the next cycle",
      );
    }
    const adapter = d.adapters.get(r.entry);
    if (!adapter || r.remove.length === 0) continue;
    const handles = r.remove.flatMap((p) => d.store.liveById(p.pilotId)?.handle ?? []);
    d.store.transaction(() => {
      for (const p of r.remove) d.store.markRemoveRequested([p.pilotId], p.reason);
    });
    await guarded(d.logger, r.entry, () => adapter.remove(handles));
    removed += r.remove.length;
  }
  return removed;
}

/** Records held submissions, submits the rest; returns how many pilots were submitted. */
export async function applySubmissions(
  d: CycleDeps,
  plan: CyclePlan,
  requests: readonly ParsedRequest[],
  now: number,
): Promise<number> {
  const log = d.logger;
  for (const h of plan.held) {
    d.store.recordError(h.entry, h.client, now, h.message);
    if (h.why === "validation_paused") {
      log.info({ entry: h.entry, client: h.client }, "entry paused: pilots failing validation");
    } else log.info({ entry: h.entry, client: h.client, until: h.until }, "entry backing off");
  }
  const byKey = new Map(
    requests.map((p) => [entryClientKey(p.request.entry, p.request.client), p]),
  );
  const jobs: SubmitJob[] = [];
  for (const s of plan.submissions) {
    const adapter = d.adapters.get(s.entry);
    const req = byKey.get(entryClientKey(s.entry, s.client));
    const job = adapter && req && prepareSubmit(d, adapter, req, s.count);
    if (job) jobs.push(job);
  }
  const sums = await submitAll(d.store, jobs, d.now);
  if (d.backoff) {
    const outcomes = jobs.map((j, i) => ({ entry: j.req.intent.entry, ...sums[i]! }));
    for (const [entry, { next, failed }] of backoffAfter(d.backoff, outcomes, d.now())) {
      if (next) d.backoff.set(entry, next);
      else d.backoff.delete(entry);
      if (next && next.failures > 0 && failed > 0) {
        log.warn({ entry, failures: next.failures, until: next.until }, "entry backing off");
      }
    }
  }
  let submitted = 0;
  // Counters and last errors: relaxed, as they are not what any outside action relies on.
  d.store.transaction(() => {
    jobs.forEach((j, i) => {
      const sum = sums[i]!;
      const { entry, client } = j.req.intent;
      submitted += sum.submitted;
      if (sum.submitted > 0) d.store.count(entry, client, "submitted", sum.submitted);
      if (sum.failed > 0) {
        d.store.count(entry, client, "submit_failed", sum.failed);
        d.store.recordError(entry, client, d.now(), `submit failed: ${sum.lastError ?? "?"}`);
        log.warn({ entry, client, failed: sum.failed, error: sum.lastError }, "submit failed");
      }
    });
  }, "relaxed");
  if (jobs.length > 0) log.info({ submitted, jobs: jobs.length }, "submitted pilots");
  return submitted;
}
