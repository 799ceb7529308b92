/**
 * WLCG Machine/Job Features: a site announces that a node (`$MACHINEFEATURES/shutdowntime`) or
 * this batch slot (`$JOBFEATURES/shutdowntime_job`) goes away at a Unix time. The pilot then
 * drains: it claims nothing more, and stops its running jobs and hands their leases back a grace
 * period before that time, so they go back to the queue instead of dying with the node. The
 * files may appear at any time, so the pilot reads them periodically. Parsing and the plan change
 * are pure; reading is one small function over an injected reader.
 */
import { readHead } from "../common/bounded-read.js";
import { join } from "node:path";
import type { LifetimePlan } from "./lifetime.js";

/** How often the pilot looks for the files. */
export const FEATURES_POLL_MS = 60_000;

/** A Unix time in seconds, alone on its line; anything else (or an absurd value) is ignored. */
export function parseShutdownTime(text: string): number | undefined {
  const t = text.trim();
  if (!/^\d{1,12}$/.test(t)) return undefined;
  return Number(t) * 1000;
}

/** The earliest shutdown the two files announce, in ms; undefined when none does. */
export function readShutdownMs(
  env: Readonly<Record<string, string | undefined>>,
  read: (file: string) => string | undefined = readSmallFile,
): number | undefined {
  const files = [
    env.MACHINEFEATURES && join(env.MACHINEFEATURES, "shutdowntime"),
    env.JOBFEATURES && join(env.JOBFEATURES, "shutdowntime_job"),
  ].filter((f): f is string => Boolean(f));
  const times = files.flatMap((f) => {
    const text = read(f);
    const t = text === undefined ? undefined : parseShutdownTime(text);
    return t === undefined ? [] : [t];
  });
  return times.length > 0 ? Math.min(...times) : undefined;
}

/** A file's start, or undefined when it cannot be read (absent is the usual case). */
function readSmallFile(file: string): string | undefined {
  try {
    return readHead(file, 64).toString("utf8");
  } catch {
    return undefined;
  }
}

/**
 * The plan once a shutdown at `shutdownMs` is announced: retire now, stop jobs a grace period
 * before the shutdown (never later than planned), die at it. Unchanged when the shutdown comes
 * after the pilot's own end.
 */
export function drainForShutdown(
  plan: LifetimePlan,
  shutdownMs: number,
  nowMs: number,
  graceMs: number,
  reason: "shutdown" | "credential" = "shutdown",
): LifetimePlan {
  if (shutdownMs >= plan.dieAtMs) return plan;
  const stopJobsAtMs = Math.min(plan.stopJobsAtMs, Math.max(nowMs, shutdownMs - graceMs));
  return {
    ...plan,
    retireAtMs: Math.min(plan.retireAtMs, nowMs),
    stopJobsAtMs,
    dieAtMs: Math.max(stopJobsAtMs, shutdownMs),
    dieReason: reason,
    drainReason: reason,
  };
}
