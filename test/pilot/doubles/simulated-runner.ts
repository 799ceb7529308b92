/**
 * Test double for the job runner: a job "runs" for the `SimSeconds` of its ad on a ManualClock,
 * so lifetime rules can be tested over hours in milliseconds. `sleep` advances the clock no
 * further than the next simulated job end.
 */
import type { ManualClock } from "../../../src/common/clock.js";
import type { JobSpec } from "../../../src/pilot/runner/job-spec.js";
import type { JobOutcome, KillKind, RunningJob } from "../../../src/pilot/runner/run-job.js";

interface SimJob {
  endMs: number;
  startMs: number;
  settle: (o: JobOutcome) => void;
  jobId: string;
}

export class SimulatedRunnerDouble {
  private running = new Set<SimJob>();
  /** Seconds per job id; jobs not listed run for `defaultS`. */
  durations = new Map<string, number>();
  constructor(
    private clock: ManualClock,
    private defaultS = 60,
  ) {}

  run = (spec: JobSpec): RunningJob => {
    let settle!: (o: JobOutcome) => void;
    const done = new Promise<JobOutcome>((r) => (settle = r));
    const start = this.clock.now();
    const sim: SimJob = {
      jobId: spec.jobId,
      startMs: start,
      endMs: start + (this.durations.get(spec.jobId) ?? this.defaultS) * 1000,
      settle,
    };
    this.running.add(sim);
    const outcome = (extra: Partial<JobOutcome>): JobOutcome => ({
      jobId: spec.jobId,
      exitCode: 0,
      signal: null,
      wallS: (this.clock.now() - start) / 1000,
      userS: 0,
      sysS: 0,
      peakRssMb: 1,
      ...extra,
    });
    sim.settle = (o) => {
      this.running.delete(sim);
      settle(o);
    };
    const kill = (kind: KillKind, holdReason?: string) => {
      if (!this.running.has(sim)) return;
      sim.settle(
        outcome({
          exitCode: null,
          signal: "SIGTERM",
          killed: { kind, ...(holdReason ? { holdReason } : {}) },
        }),
      );
    };
    return { jobId: spec.jobId, pid: 1, kill, done };
  };

  get count(): number {
    return this.running.size;
  }

  /** Advance the clock by at most `ms`, ending simulated jobs that are due. */
  sleep = async (ms: number): Promise<void> => {
    const nextEnd = Math.min(...[...this.running].map((j) => j.endMs));
    const step = Math.max(0, Math.min(ms, nextEnd - this.clock.now()));
    this.clock.advance(step);
    for (const j of [...this.running]) {
      if (j.endMs <= this.clock.now()) {
        j.settle({
          jobId: j.jobId,
          exitCode: 0,
          signal: null,
          wallS: (j.endMs - j.startMs) / 1000,
          userS: 0,
          sysS: 0,
          peakRssMb: 1,
        });
      }
    }
    await new Promise((r) => setImmediate(r));
  };
}
