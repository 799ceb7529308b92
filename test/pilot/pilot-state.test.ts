import assert from "node:assert/strict";
import { test } from "node:test";
import { ClassAd } from "../../src/classad/index.js";
import { DEFAULT_HEARTBEAT } from "../../src/pilot/heartbeat-schedule.js";
import type { JobLease, JobSource } from "../../src/pilot/interfaces.js";
import { planLifetime } from "../../src/pilot/lifetime.js";
import {
  createPilotState,
  heartbeatAnswered,
  heartbeatFailed,
  idleSeconds,
  jobClaimed,
  jobEnded,
  jobReport,
  stopping,
} from "../../src/pilot/pilot-state.js";
import type { JobOutcome } from "../../src/pilot/runner/run-job.js";

const T0 = 1_000_000;
const HB = { ...DEFAULT_HEARTBEAT };
const SOURCE = { name: "schedd@test" } as JobSource;
const PLAN = planLifetime({ maxWalltimeS: 3600, maxIdleS: 1200 }, T0, () => 0);

function state(blackHole?: { numJobs: number; rate: number; windowMs: number }) {
  return createPilotState(PLAN, { cpus: 2, memoryMb: 1000, diskKb: 1e6, gpus: 0 }, blackHole, T0);
}

function lease(jobId: string, cpus = 1, leaseMs?: number): JobLease {
  const ad = ClassAd.parse(`[ RequestCpus = ${cpus}; RequestMemory = 100 ]`);
  return { jobId, schedd: "schedd@test", leaseId: `l-${jobId}`, ad, leaseMs };
}

const outcome = (extra: Partial<JobOutcome> = {}): JobOutcome => ({
  jobId: "1.0",
  exitCode: 0,
  signal: null,
  wallS: 1,
  userS: 0,
  sysS: 0,
  peakRssMb: 1,
  ...extra,
});

test("a claimed job takes its share of the slot and ends the idle spell; one too big is refused", () => {
  const s = state();
  const a = jobClaimed(s, lease("1.0", 2, 90_000), SOURCE, "/w/execute", T0 + 5000, HB);
  assert.ok(a);
  assert.equal(a.dir, "/w/execute/dir_1");
  assert.equal(a.leaseEndsAt, T0 + 5000 + 90_000);
  assert.equal(a.nextHeartbeatAt, T0 + 5000 + 30_000);
  assert.equal(s.ledger.remaining().cpus, 0);
  assert.equal(s.idleSince, undefined);
  assert.equal(jobClaimed(s, lease("2.0"), SOURCE, "/w/execute", T0 + 6000, HB), undefined);
  assert.equal(s.active.size, 1);
  jobEnded(s, a, outcome(), T0 + 65_000);
  assert.equal(s.ledger.remaining().cpus, 2);
  assert.equal(idleSeconds(s, T0 + 70_000), 10);
});

test("a job's end: its disposition, record and what goes back to the schedd", () => {
  const cases: {
    name: string;
    outcome: Partial<JobOutcome>;
    handBack?: boolean;
    disposition: string;
    report: string;
  }[] = [
    { name: "exits", outcome: {}, disposition: "completed", report: "complete" },
    {
      name: "killed by its walltime",
      outcome: { exitCode: null, killed: { kind: "walltime", holdReason: "too long" } },
      disposition: "killed",
      report: "complete",
    },
    {
      name: "cannot start",
      outcome: { startError: "no" },
      disposition: "start-failed",
      report: "complete",
    },
    {
      name: "stopped by the pilot",
      outcome: { killed: { kind: "pilot-stop" } },
      disposition: "released",
      report: "release",
    },
    {
      name: "inputs did not arrive",
      outcome: { startError: "x" },
      handBack: true,
      disposition: "released",
      report: "release",
    },
  ];
  for (const c of cases) {
    const s = state();
    const a = jobClaimed(s, lease("1.0"), SOURCE, "/w", T0, HB)!;
    if (c.handBack) a.handBack = true;
    const end = jobEnded(s, a, outcome(c.outcome), T0 + 1000);
    assert.equal(end.disposition, c.disposition, c.name);
    assert.equal(s.records[0]?.disposition, c.disposition, c.name);
    assert.equal(jobReport(a, end.disposition).kind, c.report, c.name);
    assert.equal(s.active.size, 0, c.name);
  }
});

test("a lease lost while the report waits: nothing goes back to the schedd", () => {
  const s = state();
  const a = jobClaimed(s, lease("1.0"), SOURCE, "/w", T0, HB)!;
  const end = jobEnded(s, a, outcome(), T0 + 1000);
  assert.equal(heartbeatAnswered(a, { action: "lost" }, T0 + 2000, HB)?.reason, "lease lost");
  assert.deepEqual(jobReport(a, end.disposition), { kind: "none" });
});

test("a stopped job goes back with the stop's reason; a failed hook names itself once", () => {
  const s = state();
  const a = jobClaimed(s, lease("1.0"), SOURCE, "/w", T0, HB)!;
  const b = jobClaimed(s, lease("2.0"), SOURCE, "/w", T0, HB)!;
  assert.deepEqual(stopping(s, "walltime"), [a, b]);
  assert.deepEqual(stopping(s, "again"), []);
  const end = jobEnded(s, a, outcome({ killed: { kind: "pilot-stop" } }), T0 + 10);
  assert.deepEqual(jobReport(a, end.disposition), {
    kind: "release",
    reason: "walltime",
    inputTransferFailed: false,
  });
  const hooked = jobEnded(s, b, outcome({ nodeFault: "pre-job failed" }), T0 + 20);
  assert.equal(hooked.firstHookFault, "pre-job failed");
  assert.equal(s.hookFault, "pre-job failed");
});

test("the black-hole detector hears of jobs the node ran, not of jobs handed back", () => {
  const s = state({ numJobs: 2, rate: 1, windowMs: 1_200_000 });
  const handed = jobClaimed(s, lease("1.0"), SOURCE, "/w", T0, HB)!;
  handed.handBack = true;
  assert.equal(jobEnded(s, handed, outcome(), T0 + 10).blackHoleTripped, undefined);
  const a = jobClaimed(s, lease("2.0"), SOURCE, "/w", T0, HB)!;
  assert.equal(jobEnded(s, a, outcome(), T0 + 10).blackHoleTripped, undefined);
  const b = jobClaimed(s, lease("3.0"), SOURCE, "/w", T0, HB)!;
  assert.match(jobEnded(s, b, outcome(), T0 + 20).blackHoleTripped ?? "", /2 jobs ended/);
});

test("heartbeat answers: renew, remove, hold; a failure retries sooner as the lease runs out", () => {
  const s = state();
  const a = jobClaimed(s, lease("1.0", 1, 60_000), SOURCE, "/w", T0, HB)!;
  assert.equal(
    heartbeatAnswered(a, { action: "continue", leaseMs: 90_000 }, T0 + 20_000, HB),
    undefined,
  );
  assert.equal(a.leaseEndsAt, T0 + 110_000);
  assert.equal(a.nextHeartbeatAt, T0 + 50_000);
  assert.deepEqual(heartbeatAnswered(a, { action: "hold", reason: "r" }, T0, HB), {
    kind: "held",
    reason: "r",
  });
  assert.deepEqual(heartbeatAnswered(a, { action: "remove", reason: "q" }, T0, HB), {
    kind: "removed",
    reason: "q",
  });
  assert.equal(a.leaseLost, undefined);
  heartbeatFailed(a, T0 + 80_000, HB);
  assert.equal(a.nextHeartbeatAt, T0 + 80_000 + 10_000);
  heartbeatFailed(a, T0 + 105_000, HB);
  assert.equal(a.nextHeartbeatAt, T0 + 105_000 + HB.floorMs);
});
