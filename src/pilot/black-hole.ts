/**
 * Black-hole detection, as glideinWMS's GLIDEIN_BLACKHOLE_NUMJOBS / GLIDEIN_BLACKHOLE_RATE: a
 * node where every job ends within seconds (a broken library, a full scratch disk the checks did
 * not catch) would otherwise eat a schedd's queue at the rate it can claim. glideinWMS trips when,
 * over HTCondor's recent-statistics window (20 minutes), at least NUMJOBS jobs ended and their
 * mean busy time is below 1 / RATE seconds; the verdict is latched (STARTD_LATCH_EXPRS) and the
 * slot's START turns false. A RATE of 0 or none turns it off. Pure: times in, verdict out.
 */

export interface BlackHolePolicy {
  /** GLIDEIN_BLACKHOLE_NUMJOBS: jobs ended within the window before the rate is judged. */
  numJobs: number;
  /** GLIDEIN_BLACKHOLE_RATE: jobs per second; a mean busy time under 1 / rate trips. 0: off. */
  rate: number;
  /** The window jobs are counted over (HTCondor's STATISTICS_WINDOW_SECONDS, 1200 s). */
  windowMs: number;
}

export const BLACK_HOLE_WINDOW_MS = 1200 * 1000;

export interface BlackHoleDetector {
  /** A job the node ran has ended (jobs the pilot handed back do not count). */
  jobEnded(startedMs: number, endedMs: number): void;
  /** Latched: once set, it stays. */
  readonly tripped: string | undefined;
}

export function createBlackHoleDetector(policy: BlackHolePolicy): BlackHoleDetector {
  const enabled = policy.rate > 0 && policy.numJobs > 0;
  const ended: { at: number; busyMs: number }[] = [];
  let tripped: string | undefined;
  return {
    jobEnded(startedMs, endedMs) {
      if (!enabled || tripped) return;
      ended.push({ at: endedMs, busyMs: Math.max(0, endedMs - startedMs) });
      while (ended.length > 0 && ended[0]!.at <= endedMs - policy.windowMs) ended.shift();
      if (ended.length < policy.numJobs) return;
      const meanS = ended.reduce((s, j) => s + j.busyMs, 0) / ended.length / 1000;
      if (meanS < 1 / policy.rate) {
        tripped =
          `${ended.length} jobs ended within ${Math.round(policy.windowMs / 1000)} s, ` +
          `${meanS.toFixed(1)} s on average (GLIDEIN_BLACKHOLE_NUMJOBS ${policy.numJobs}, ` +
          `GLIDEIN_BLACKHOLE_RATE ${policy.rate}/s)`;
      }
    },
    get tripped() {
      return tripped;
    },
  };
}
