/**
 * The pilot's lifetime clock, pure: given the start time, the configured limits and what the pilot
 * observes (running jobs, last job end), it answers what the pilot may and must do at `now`.
 *
 * Meanings follow glideinWMS:
 * - GLIDEIN_Max_Walltime: hard deadline (`GLIDEIN_ToDie`); the batch system kills us past it.
 * - GLIDEIN_Retire_Time: after this many seconds no new job starts (`GLIDEIN_ToRetire`);
 *   GLIDEIN_Retire_Time_Spread moves it earlier by a random amount so that pilots submitted
 *   together do not all drain at once.
 * - GLIDEIN_Max_Idle: exit when no job has arrived for this long since start (default 1200 s).
 * - GLIDEIN_Max_Tail: the same idle limit once jobs have run, usually shorter: a pilot whose
 *   queue has drained should give its node back sooner than one still waiting for its first job.
 * - The credential's end caps the hard deadline: after it we could not talk to anybody.
 */

export interface LifetimeSettings {
  /** GLIDEIN_Max_Walltime, seconds. */
  maxWalltimeS: number;
  /** GLIDEIN_Retire_Time, seconds after start; defaults to the walltime minus the grace. */
  retireTimeS?: number;
  /** GLIDEIN_Retire_Time_Spread, seconds. */
  retireSpreadS?: number;
  /** GLIDEIN_Max_Idle, seconds. */
  maxIdleS?: number;
  /** GLIDEIN_Max_Tail, seconds: idle limit after the first job; Max_Idle when absent. */
  maxTailS?: number;
  /** Seconds before the hard deadline to stop jobs and release leases. */
  graceS?: number;
}

export const DEFAULT_MAX_IDLE_S = 1200;
export const DEFAULT_GRACE_S = 120;

export interface LifetimePlan {
  startMs: number;
  /** GLIDEIN_ToRetire. */
  retireAtMs: number;
  /** GLIDEIN_ToDie: min(start + walltime, credential end). */
  dieAtMs: number;
  /** When running jobs are stopped and their leases released. */
  stopJobsAtMs: number;
  maxIdleMs: number;
  maxTailMs: number | undefined;
  /** Whether the hard deadline is the walltime, the credential's end or an announced shutdown. */
  dieReason: "walltime" | "credential" | "shutdown";
  /** Set when something other than the retire time made the pilot drain (see machine-features.ts). */
  drainReason?: "shutdown" | "credential";
}

/**
 * Fix the pilot's times once at start. `random` returns [0, 1); injected so tests and replays
 * are deterministic.
 */
export function planLifetime(
  s: LifetimeSettings,
  startMs: number,
  random: () => number,
  credentialEndMs?: number,
): LifetimePlan {
  const graceMs = (s.graceS ?? DEFAULT_GRACE_S) * 1000;
  const walltimeEndMs = startMs + s.maxWalltimeS * 1000;
  const byCredential = credentialEndMs !== undefined && credentialEndMs < walltimeEndMs;
  const dieAtMs = byCredential ? credentialEndMs : walltimeEndMs;
  const stopJobsAtMs = Math.max(startMs, dieAtMs - graceMs);
  const retireS = s.retireTimeS ?? Math.max(0, s.maxWalltimeS - (s.graceS ?? DEFAULT_GRACE_S));
  const spreadMs = Math.floor(random() * (s.retireSpreadS ?? 0) * 1000);
  const retireAtMs = Math.min(Math.max(startMs, startMs + retireS * 1000 - spreadMs), stopJobsAtMs);
  return {
    startMs,
    retireAtMs,
    dieAtMs,
    stopJobsAtMs,
    maxIdleMs: (s.maxIdleS ?? DEFAULT_MAX_IDLE_S) * 1000,
    maxTailMs: s.maxTailS === undefined ? undefined : s.maxTailS * 1000,
    dieReason: byCredential ? "credential" : "walltime",
  };
}

export interface PilotObservation {
  nowMs: number;
  runningJobs: number;
  /** When the last job ended, or undefined if none ran yet (idle counts from start then). */
  lastJobEndMs?: number;
  /** SIGTERM from the batch system: same as reaching the hard deadline. */
  terminated?: boolean;
}

export type ExitReason =
  "terminated" | "walltime" | "credential" | "shutdown" | "idle" | "retired" | "tail";

export interface LifetimeVerdict {
  /** New jobs may be claimed. */
  mayStartJobs: boolean;
  /** Past the retire time: advertise as draining, claim nothing. */
  retired: boolean;
  /** Running jobs must be stopped now and their leases released. */
  stopJobs: boolean;
  /** The pilot should exit now (after stopping any jobs), and why. */
  exit?: ExitReason;
  /** Milliseconds until the next time the verdict can change without an event. */
  nextChangeInMs: number;
}

export function judge(plan: LifetimePlan, obs: PilotObservation): LifetimeVerdict {
  const now = obs.nowMs;
  if (obs.terminated) return stopAll("terminated");
  if (now >= plan.stopJobsAtMs) return stopAll(plan.dieReason);

  const retired = now >= plan.retireAtMs;
  if (retired && obs.runningJobs === 0) return stopAll(plan.drainReason ?? "retired");

  const ranJobs = obs.lastJobEndMs !== undefined;
  const byTail = ranJobs && plan.maxTailMs !== undefined;
  const idleEnd = (obs.lastJobEndMs ?? plan.startMs) + (byTail ? plan.maxTailMs! : plan.maxIdleMs);
  if (obs.runningJobs === 0 && now >= idleEnd) return stopAll(byTail ? "tail" : "idle");

  const candidates = [plan.stopJobsAtMs];
  if (!retired) candidates.push(plan.retireAtMs);
  if (obs.runningJobs === 0) candidates.push(idleEnd);
  const next = Math.min(...candidates.filter((t) => t > now)) - now;
  return {
    mayStartJobs: !retired,
    retired,
    stopJobs: false,
    nextChangeInMs: Number.isFinite(next) ? next : 0,
  };

  function stopAll(exit: ExitReason): LifetimeVerdict {
    return {
      mayStartJobs: false,
      retired: true,
      stopJobs: obs.runningJobs > 0,
      exit,
      nextChangeInMs: 0,
    };
  }
}
