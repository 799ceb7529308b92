/**
 * The VO's periodic scripts during the pilot's life, as glideinWMS's periodic health checks:
 * each re-runs every period (its first run was part of validation), and while any failed on its
 * last run the slot publishes `GLIDEIN_PS_OK = false` with which scripts fail and why, and takes
 * no new jobs (its START is false); running jobs go on. A later passing run turns it back on.
 * As glideinWMS's script wrapper, the slot also keeps which scripts ever failed and the last
 * failure. Attributes a passing script reports are published on the slot ad, as a startd cron's.
 */
import { fail, type Attrs, type CheckResult } from "./failure.js";
import type { NodeView } from "./validate/node-view.js";
import { runScript } from "./validate/check-scripts.js";

export interface PeriodicScript {
  path: string;
  periodMs: number;
  /** The bundle manifest's SHA-256 of the file, checked again before each run. */
  sha256?: string;
}

export interface PeriodicChecks {
  /** False while any script's last run failed. */
  ok(): boolean;
  /** GLIDEIN_PS_OK and the failure attributes of PS_ATTRS. */
  attrs(): Attrs;
  stop(): void;
}

/** glideinWMS's names (its script_wrapper.sh), and every failing script's reason. */
export const PS_ATTRS = {
  /** False while any script's last run failed. */
  ok: "GLIDEIN_PS_OK",
  /** The scripts whose last run failed, while any does. */
  failingList: "GLIDEIN_PS_FAILING_LIST",
  /** Every failing script's class and message, while any fails. */
  reason: "GLIDEIN_PS_FAILURE_REASON",
  /** The scripts that failed at least once in the pilot's life, kept once they pass again. */
  failedList: "GLIDEIN_PS_FAILED_LIST",
  /** The last script that failed, and why. */
  failedLast: "GLIDEIN_PS_FAILED_LAST",
  failedLastReason: "GLIDEIN_PS_FAILED_LAST_REASON",
} as const;

/** What failed before, in the order of first failure, and the last failure. */
export interface PeriodicHistory {
  everFailed: readonly string[];
  lastFailure?: { path: string; reason: string };
}

/** The verdict over every script's last result and the failures before: pure. */
export function periodicVerdict(
  scripts: readonly PeriodicScript[],
  last: ReadonlyMap<string, CheckResult>,
  history: PeriodicHistory = { everFailed: [] },
): { ok: boolean; attrs: Attrs } {
  const attrs: Attrs = {};
  const failed: string[] = [];
  const reasons: string[] = [];
  for (const s of scripts) {
    const r = last.get(s.path);
    if (!r) continue;
    if (r.ok) Object.assign(attrs, r.attrs);
    else {
      failed.push(s.path);
      reasons.push(`${r.failure.class}: ${r.failure.message}`);
    }
  }
  attrs[PS_ATTRS.ok] = failed.length === 0;
  if (failed.length > 0) {
    attrs[PS_ATTRS.failingList] = failed.join(",");
    attrs[PS_ATTRS.reason] = reasons.join("; ").slice(0, 1000);
  }
  if (history.everFailed.length > 0) attrs[PS_ATTRS.failedList] = history.everFailed.join(",");
  if (history.lastFailure) {
    attrs[PS_ATTRS.failedLast] = history.lastFailure.path;
    attrs[PS_ATTRS.failedLastReason] = history.lastFailure.reason.slice(0, 1000);
  }
  return { ok: failed.length === 0, attrs };
}

export interface PeriodicOptions {
  view: NodeView;
  scripts: readonly PeriodicScript[];
  /** Attributes the scripts see (UPDRAFT_PILOT_ATTRS), as at validation. */
  attrsSoFar: () => Attrs;
  timeoutMs: number;
  /** Called when the verdict or the published attributes changed. */
  onChange: () => void;
}

/** Starts the timers: each script next runs one period from now, then a period after each run. */
export function startPeriodicScripts(o: PeriodicOptions): PeriodicChecks {
  const last = new Map<string, CheckResult>();
  // Scripts are the bundle's, at most its 64 files: the list stays bounded.
  const everFailed: string[] = [];
  let lastFailure: PeriodicHistory["lastFailure"];
  const timers = new Set<NodeJS.Timeout>();
  let stopped = false;
  // Ends a script still running when the pilot ends: the pilot waits for none.
  const ending = new AbortController();
  let verdict = periodicVerdict(o.scripts, last);
  const schedule = (s: PeriodicScript) => {
    if (stopped) return;
    const t = setTimeout(() => {
      timers.delete(t);
      const ref = {
        path: s.path,
        kind: "vo" as const,
        ...(s.sha256 !== undefined ? { sha256: s.sha256 } : {}),
      };
      // A run that cannot even start counts as a failed check, and the script is tried again.
      void runScript(o.view, ref, o.attrsSoFar(), o.timeoutMs, ending.signal)
        .catch((err: unknown) => fail("VO_Config", `${s.path}: ${String(err)}`))
        .then((r) => {
          if (stopped) return;
          last.set(s.path, r);
          if (!r.ok) {
            if (!everFailed.includes(s.path)) everFailed.push(s.path);
            lastFailure = { path: s.path, reason: `${r.failure.class}: ${r.failure.message}` };
          }
          const next = periodicVerdict(o.scripts, last, {
            everFailed,
            ...(lastFailure ? { lastFailure } : {}),
          });
          const changed = JSON.stringify(next) !== JSON.stringify(verdict);
          verdict = next;
          if (changed) o.onChange();
          schedule(s);
        });
    }, s.periodMs);
    t.unref();
    timers.add(t);
  };
  for (const s of o.scripts) schedule(s);
  return {
    ok: () => verdict.ok,
    attrs: () => verdict.attrs,
    stop() {
      stopped = true;
      ending.abort();
      for (const t of timers) clearTimeout(t);
      timers.clear();
    },
  };
}
