/**
 * One factory cycle: observe (poll adapters, fetch finished output), tidy (holds, stale pilots),
 * decide (pure, from a snapshot), apply (remove, then submit through the intent protocol), and
 * advertise. Each step's IO errors are logged and counted; one entry's failure does not stop
 * the others.
 */
import { removeUnusedCredentials } from "./credentials.js";
import { advertise } from "./cycle-advertise.js";
import { type CycleDeps, entryClientKey, entryConfig, guarded } from "./cycle-deps.js";
import { afterSubmit, backingOff } from "./entry-backoff.js";
import { cycleBudgets } from "./entry-caps.js";
import { pauseReason } from "./validation-backoff.js";
import { collectOutputs, pollStatus } from "./cycle-observe.js";
import { prepareSubmit, readRequests } from "./cycle-requests.js";
import { tidy } from "./cycle-tidy.js";
import { decide } from "./decide.js";
import type { Decision } from "./decide-types.js";
import { entryPolicy, securityClasses } from "./policy.js";
import { type SubmitJob, submitAll } from "./submitter.js";

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
  const log = d.logger;
  const report: CycleReport = {
    submitted: 0,
    removed: 0,
    refused: 0,
    released: 0,
    finished: 0,
    decision: { clients: [], refused: [] },
    timings: {},
  };
  let mark = performance.now();
  const lap = (step: string) => {
    const t = performance.now();
    report.timings[step] = Math.round(t - mark);
    mark = t;
  };
  await pollStatus(d);
  lap("poll");
  report.finished = await collectOutputs(d);
  lap("outputs");
  const budgets = cycleBudgets((entry) => entryCaps(d, entry));
  const tidied = await tidy(d, budgets);
  lap("tidy");
  report.released = tidied.released;
  report.removed += tidied.removed;

  const parsed = await readRequests(d);
  lap("read_requests");
  const now = d.now();
  const live = d.store.live();
  const decision = decide({
    now,
    entries: d.config.entries.map((e) => entryPolicy(d.config, e)),
    securityClasses: securityClasses(d.config),
    downtimes: d.store.downtimes(),
    requests: parsed.map((p) => p.request),
    // Rows are TrackedPilots already. Pilots being removed no longer count: otherwise a slow
    // removal would make the next cycle remove the same excess again from other pilots.
    pilots: live.filter((p) => p.removeReason === null),
  });
  report.decision = decision;
  lap("decide");
  if (d.idleLifetimes) {
    const refused = new Set(decision.refused.map((r) => entryClientKey(r.entry, r.client)));
    d.idleLifetimes.clear();
    for (const p of parsed) {
      const key = entryClientKey(p.request.entry, p.request.client);
      const s = p.request.idleLifetimeS ?? 0;
      if (s > 0 && !refused.has(key)) d.idleLifetimes.set(key, s * 1000);
    }
  }
  if (decision.refused.length > 0) {
    d.store.transaction(() => {
      for (const r of decision.refused) d.store.count(r.entry, r.client, "refused");
    });
  }
  for (const r of decision.refused) {
    report.refused++;
    log.warn(
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
  const byKey = new Map(parsed.map((p) => [`${p.request.entry}\u0000${p.request.client}`, p]));
  const jobs: SubmitJob[] = [];
  for (const c of decision.clients) {
    const adapter = d.adapters.get(c.entry);
    if (!adapter) continue;
    const remove = c.remove.slice(0, budgets.remove.take(c.entry, c.remove.length));
    if (remove.length < c.remove.length) {
      log.warn(
        { entry: c.entry, client: c.client, deferred: c.remove.length - remove.length },
        "remove.max_per_cycle reached: the rest waits for the next cycle",
      );
    }
    if (remove.length > 0) {
      const handles = remove.flatMap((r) => d.store.liveById(r.pilotId)?.handle ?? []);
      d.store.transaction(() => {
        for (const r of remove) d.store.markRemoveRequested([r.pilotId], r.reason);
      });
      await guarded(log, c.entry, () => adapter.remove(handles));
      report.removed += remove.length;
    }
    const paused = pauseReason(d.validationBackoff?.get(c.entry), now);
    if (c.submit > 0 && paused) {
      d.store.recordError(c.entry, c.client, now, paused);
      log.info({ entry: c.entry, client: c.client }, "entry paused: pilots failing validation");
    } else if (c.submit > 0 && backingOff(d.backoff?.get(c.entry), now)) {
      const b = d.backoff!.get(c.entry)!;
      const msg =
        `not submitting until ${new Date(b.until).toISOString()}: the last ${b.failures} ` +
        `cycle(s) of submissions all failed (${b.lastError ?? "?"})`;
      d.store.recordError(c.entry, c.client, now, msg);
      log.info({ entry: c.entry, client: c.client, until: b.until }, "entry backing off");
    } else if (c.submit > 0) {
      const req = byKey.get(`${c.entry}\u0000${c.client}`)!;
      const job = prepareSubmit(d, adapter, req, c.submit);
      if (job) jobs.push(job);
    }
  }
  lap("remove");
  const sums = await submitAll(d.store, jobs, d.now);
  if (d.backoff) {
    const byEntry = new Map<string, { submitted: number; failed: number; error?: string }>();
    jobs.forEach((j, i) => {
      const o = byEntry.get(j.req.intent.entry) ?? { submitted: 0, failed: 0 };
      o.submitted += sums[i]!.submitted;
      o.failed += sums[i]!.failed;
      o.error ??= sums[i]!.lastError;
      byEntry.set(j.req.intent.entry, o);
    });
    for (const [entry, o] of byEntry) {
      const next = afterSubmit(d.backoff.get(entry), o, d.now());
      if (next) d.backoff.set(entry, next);
      else d.backoff.delete(entry);
      if (next && next.failures > 0 && o.failed > 0) {
        log.warn({ entry, failures: next.failures, until: next.until }, "entry backing off");
      }
    }
  }
  d.store.transaction(() => {
    jobs.forEach((j, i) => {
      const sum = sums[i]!;
      const { entry, client } = j.req.intent;
      report.submitted += sum.submitted;
      if (sum.submitted > 0) d.store.count(entry, client, "submitted", sum.submitted);
      if (sum.failed > 0) {
        d.store.count(entry, client, "submit_failed", sum.failed);
        d.store.recordError(entry, client, d.now(), `submit failed: ${sum.lastError ?? "?"}`);
        log.warn({ entry, client, failed: sum.failed, error: sum.lastError }, "submit failed");
      }
    });
  });
  if (jobs.length > 0)
    log.info({ submitted: report.submitted, jobs: jobs.length }, "submitted pilots");
  lap("submit");
  forgetCredentials(d);
  d.store.recordClientStatus([
    ...decision.clients.map((c) => ({
      entry: c.entry,
      client: c.client,
      frontend: c.frontend,
      reqIdle: c.reqIdle,
      reqMax: c.reqMax,
      limitsHit: c.limitsHit.join(","),
      at: now,
    })),
    ...decision.refused.map((r) => ({
      entry: r.entry,
      client: r.client,
      frontend: r.frontend,
      reqIdle: 0,
      reqMax: 0,
      limitsHit: "",
      refused: r.reason,
      at: now,
    })),
  ]);
  lap("client_status");
  await advertise(d, decision);
  lap("advertise");
  return report;
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
 * run uses are deleted: a proxy on disk is only as safe as the directory it sits in.
 */
function forgetCredentials(d: CycleDeps): void {
  const keep = d.credentialCache?.ids() ?? new Set<string>();
  for (const p of d.store.live()) keep.add(p.credentialId);
  try {
    const n = removeUnusedCredentials(d.credentialDir, keep);
    if (n > 0) d.logger.info({ files: n }, "deleted credentials no pilot or request uses");
  } catch (err) {
    d.logger.warn({ err }, "could not delete unused credentials");
  }
  d.credentialCache?.endCycle();
}
