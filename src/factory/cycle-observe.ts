/** Observing pilots: bulk status from the adapters, and finished pilots' output and reports. */
import { toPilotState } from "./adapters/types.js";
import { type CycleDeps, guarded } from "./cycle-deps.js";
import type { PilotOutput } from "./adapters/types.js";
import { lastLines } from "./pilot-logs.js";
import { type PilotOutcome, parsePilotReport } from "./pilot-report.js";
import { statusChange } from "./reconcile.js";
import type { PilotRow, StateChange } from "./store.js";
import { afterValidation } from "./validation-backoff.js";

/** Bulk status per entry; only changed pilots are written. */
export async function pollStatus(d: CycleDeps): Promise<void> {
  // One pass: pilots and their handles per entry.
  const byEntry = new Map<string, { pilots: Readonly<PilotRow>[]; handles: string[] }>();
  for (const p of d.store.live()) {
    if (!p.handle) continue;
    let g = byEntry.get(p.entry);
    if (!g) byEntry.set(p.entry, (g = { pilots: [], handles: [] }));
    g.pilots.push(p);
    g.handles.push(p.handle);
  }
  const answers = await Promise.all(
    [...byEntry].map(async ([entry, { pilots, handles }]) => {
      const adapter = d.adapters.get(entry);
      const status = adapter
        ? await guarded(d.logger, entry, () => adapter.status(handles))
        : undefined;
      return { pilots, status };
    }),
  );
  const changes: StateChange[] = [];
  const held: PilotRow[] = [];
  for (const { pilots, status } of answers) {
    if (!status) continue;
    for (const p of pilots) {
      const s = status.get(p.handle!);
      if (!s) continue;
      if (
        toPilotState(s.state) === p.state &&
        (s.waiting ?? false) === p.waiting &&
        (s.holdReason ?? null) === p.holdReason
      ) {
        continue;
      }
      const c = statusChange(p.id, s);
      {
        changes.push(c);
        if (c.state === "Held" && p.state !== "Held")
          held.push({ ...p, holdReason: c.holdReason ?? null });
      }
    }
  }
  // One transaction for the whole poll: a write per pilot would dominate the cycle. Relaxed:
  // the next poll, after any restart, reads the same states from the adapters again.
  d.store.transaction(() => {
    d.store.applyStates(changes, d.now());
    for (const p of held)
      d.store.recordError(p.entry, p.client, d.now(), `held: ${p.holdReason ?? ""}`);
  }, "relaxed");
}

/** Bounds on a failure summary: it travels in every GlideFactoryClient ad of its client. */
const SUMMARY_LINES = 3;
const SUMMARY_LINE_CHARS = 160;
const SUMMARY_CHARS = 640;

/** Untrusted text on one line: control characters become spaces, runs of blanks one space. */
const oneLine = (s: string, max: number): string =>
  Array.from(s.slice(0, max * 4), (ch) => {
    const c = ch.charCodeAt(0);
    return c < 0x20 || c === 0x7f ? " " : ch;
  })
    .join("")
    .replace(/ {2,}/g, " ")
    .trim()
    .slice(0, max);

/**
 * What an operator reads first about a failed pilot, on one line: its id, exit, reason and
 * failure class, the worker node's message, and the last lines of its standard error (joined by
 * " | "), each part bounded, since all but the id and exit come from the worker node.
 */
export function failureSummary(
  id: number,
  exitCode: number | null,
  o: PilotOutcome,
  stderr: string,
): string {
  const why = [`exit ${exitCode ?? "?"}`, o.exitReason, o.failureClass]
    .filter((x): x is string => !!x)
    .map((x) => oneLine(x, 80))
    .join(", ");
  let s = `pilot ${id} failed (${why})`;
  if (o.failureMessage) s += `: ${oneLine(o.failureMessage, SUMMARY_LINE_CHARS)}`;
  const tail = lastLines(stderr, SUMMARY_LINES)
    .map((l) => oneLine(l, SUMMARY_LINE_CHARS))
    .filter((l) => l !== "");
  if (tail.length > 0) s += `; stderr: ${tail.join(" | ")}`;
  return s.length > SUMMARY_CHARS ? `${s.slice(0, SUMMARY_CHARS - 3)}...` : s;
}

/** Fetch and parse finished pilots' output once, count the outcome, then let the adapter forget. */
export async function collectOutputs(d: CycleDeps): Promise<number> {
  let n = 0;
  for (const p of d.store.unfetched()) {
    const adapter = d.adapters.get(p.entry);
    if (!adapter || !p.handle) continue;
    const out = await guarded(d.logger, p.entry, () => adapter.fetchOutput(p.handle!));
    if (!out) continue;
    const outcome = parsePilotReport(out.stdout);
    const failed = (p.exitCode ?? 0) !== 0 || outcome.validationOk === false;
    noteValidation(d, p.entry, outcome);
    d.store.transaction(() => {
      d.store.recordOutcome(p.id, { ...outcome, failed });
      d.store.count(p.entry, p.client, "finished");
      if (failed) {
        d.store.count(p.entry, p.client, "failed");
        if (outcome.failureClass)
          d.store.count(p.entry, p.client, `failed:${outcome.failureClass}`);
        const summary = failureSummary(p.id, p.exitCode, outcome, out.stderr);
        d.store.recordError(p.entry, p.client, d.now(), summary);
        d.recentFailures?.note(p.entry, {
          at: d.now(),
          client: p.client,
          failureClass: outcome.failureClass ?? "Unknown",
          error: summary,
        });
      }
      if (outcome.jobsRun > 0) d.store.count(p.entry, p.client, "jobs_run", outcome.jobsRun);
    });
    keepLog(d, p, out, { ...outcome, failed });
    await guarded(d.logger, p.entry, async () => adapter.purge?.([p.handle!]));
    n++;
  }
  pruneLogs(d);
  return n;
}

/** An entry whose pilots keep failing validation is paused (see validation-backoff.ts). */
function noteValidation(d: CycleDeps, entry: string, outcome: PilotOutcome): void {
  if (!d.validationBackoff) return;
  const b = d.config.defaults.validation_backoff;
  const prev = d.validationBackoff.get(entry);
  const next = afterValidation(prev, outcome, d.now(), {
    afterFailures: b.after_failures,
    pauseMs: b.pause_s * 1000,
    maxPauseMs: b.max_pause_s * 1000,
  });
  if (next) d.validationBackoff.set(entry, next);
  else d.validationBackoff.delete(entry);
  if (next && next.until > 0 && next !== prev) {
    d.logger.warn(
      { entry, failures: next.failures, until: next.until, last: next.lastFailure },
      "entry backing off: its pilots keep failing validation",
    );
  }
}

/** Keep the output before the adapter forgets it; a full disk costs the log, not the cycle. */
function keepLog(
  d: CycleDeps,
  p: PilotRow,
  out: PilotOutput,
  outcome: PilotOutcome & { failed: boolean },
): void {
  if (!d.pilotLogs) return;
  try {
    d.pilotLogs.keep(
      {
        pilotId: p.id,
        entry: p.entry,
        client: p.client,
        finishedAt: p.finishedAt ?? d.now(),
        exitCode: p.exitCode,
        failed: outcome.failed,
        failureClass: outcome.failureClass,
        exitReason: outcome.exitReason,
        lastLines: lastLines(out.stderr.trim() === "" ? out.stdout : out.stderr),
      },
      out,
    );
  } catch (err) {
    d.logger.warn({ err, entry: p.entry, pilot: p.id }, "could not keep the pilot's logs");
  }
}

function pruneLogs(d: CycleDeps): void {
  try {
    const r = d.pilotLogs?.maybePrune(d.now());
    if (r && r.removed > 0) d.logger.info({ ...r }, "pruned kept pilot logs");
  } catch (err) {
    d.logger.warn({ err }, "could not prune kept pilot logs");
  }
}
