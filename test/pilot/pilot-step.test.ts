import assert from "node:assert/strict";
import { test } from "node:test";
import { planLifetime } from "../../src/pilot/lifetime.js";
import { planTurn, STOP_REASONS, type TurnInputs, waitMs } from "../../src/pilot/pilot-step.js";

const START = 1_000_000;
// Walltime 1 h, grace 120 s, retire 10 min, idle 20 min.
const PLAN = planLifetime(
  { maxWalltimeS: 3600, retireTimeS: 600, graceS: 120, maxIdleS: 1200 },
  START,
  () => 0,
);

function turn(o: Partial<TurnInputs>) {
  return planTurn({
    plan: PLAN,
    nowMs: START + 1000,
    runningJobs: 1,
    graceMs: 120_000,
    advertisedRetired: false,
    advertisedBlackHole: false,
    ...o,
  });
}

test("a turn: claim, retire, stop jobs or exit, by the lifetime plan", () => {
  const cases: {
    name: string;
    at: number;
    running: number;
    terminated?: boolean;
    may: boolean;
    advertiseNow: boolean;
    stop?: string;
    exit?: string;
  }[] = [
    { name: "young", at: START + 1000, running: 1, may: true, advertiseNow: false },
    {
      name: "past retire, a job running",
      at: START + 601_000,
      running: 1,
      may: false,
      advertiseNow: true,
    },
    {
      name: "past stop-jobs time",
      at: START + 3_481_000,
      running: 1,
      may: false,
      advertiseNow: true,
      stop: STOP_REASONS.walltime,
      exit: "walltime",
    },
    {
      name: "SIGTERM",
      at: START + 1000,
      running: 2,
      terminated: true,
      may: false,
      advertiseNow: true,
      stop: STOP_REASONS.terminated,
      exit: "terminated",
    },
  ];
  for (const c of cases) {
    const t = turn({ nowMs: c.at, runningJobs: c.running, terminated: c.terminated });
    assert.equal(t.verdict.mayStartJobs, c.may, c.name);
    assert.equal(t.advertiseNow, c.advertiseNow, c.name);
    assert.equal(t.stopReason, c.stop, c.name);
    assert.equal(t.verdict.exit, c.exit, c.name);
    assert.equal(t.plan, PLAN, `${c.name}: the plan is kept`);
  }
});

test("retirement is advertised once: the next turn knows the collector was told", () => {
  const first = turn({ nowMs: START + 601_000 });
  assert.equal(first.advertiseNow, true);
  assert.equal(first.advertisedRetired, true);
  const second = turn({ nowMs: START + 602_000, advertisedRetired: first.advertisedRetired });
  assert.equal(second.advertiseNow, false);
  assert.equal(second.advertisedRetired, true);
});

test("a black hole claims nothing, is advertised once, and exits once its jobs are done", () => {
  const busy = turn({ blackHole: "5 jobs in 60 s", runningJobs: 1 });
  assert.equal(busy.verdict.mayStartJobs, false);
  assert.equal(busy.verdict.exit, undefined);
  assert.equal(busy.advertiseNow, true);
  assert.equal(busy.advertisedBlackHole, true);
  assert.equal(busy.advertisedRetired, false, "a black hole is not a retirement");
  const done = turn({ blackHole: "5 jobs in 60 s", runningJobs: 0, advertisedBlackHole: true });
  assert.equal(done.verdict.exit, "blackhole");
  assert.equal(done.advertiseNow, false);
  // The lifetime's own reason wins over the black hole.
  const late = turn({ blackHole: "x", nowMs: START + 3_481_000, runningJobs: 0 });
  assert.equal(late.verdict.exit, "walltime");
});

test("a shutdown announced before the pilot's end drains it; one after it changes nothing", () => {
  const now = START + 1000;
  const early = turn({ nowMs: now, shutdownMs: now + 300_000 });
  assert.equal(early.drainingFor, now + 300_000);
  assert.equal(early.plan.dieReason, "shutdown");
  assert.equal(early.plan.stopJobsAtMs, now + 180_000, "the start's grace before the shutdown");
  assert.equal(early.verdict.mayStartJobs, false);
  assert.equal(early.advertiseNow, true, "draining retires the slot at once");
  const late = turn({ nowMs: now, shutdownMs: START + 7_200_000 });
  assert.equal(late.drainingFor, undefined);
  assert.equal(late.plan, PLAN);
  const imminent = turn({ nowMs: now, shutdownMs: now + 1000 });
  assert.equal(imminent.stopReason, STOP_REASONS.shutdown);
});

test("the loop sleeps until the first thing that needs it, never less than 1 ms", () => {
  const base = {
    nextChangeInMs: 50_000,
    retryMs: 10_000,
    advertiseEveryMs: 60_000,
    heartbeatsInMs: [],
    reportsPending: false,
  };
  assert.equal(waitMs(base), 10_000);
  assert.equal(waitMs({ ...base, nextChangeInMs: 0 }), 10_000, "no change scheduled: retry");
  assert.equal(waitMs({ ...base, nextChangeInMs: 2000 }), 2000);
  assert.equal(waitMs({ ...base, heartbeatsInMs: [7000, 3000] }), 3000);
  assert.equal(waitMs({ ...base, adDueInMs: 400 }), 400);
  assert.equal(waitMs({ ...base, featuresCheckInMs: 900 }), 900);
  assert.equal(waitMs({ ...base, heartbeatsInMs: [-5] }), 1, "an overdue heartbeat: at once");
});

test("a failed job hook: nothing more is claimed, running jobs finish, then the pilot ends with job-hook", () => {
  const busy = turn({ hookFault: "pre.sh exited with 3", runningJobs: 1 });
  assert.deepEqual([busy.verdict.mayStartJobs, busy.verdict.exit], [false, undefined]);
  assert.equal(busy.stopReason, undefined, "the running job is not stopped");
  const idle = turn({ hookFault: "pre.sh exited with 3", runningJobs: 0 });
  assert.equal(idle.verdict.exit, "job-hook");
  const both = turn({ hookFault: "x", blackHole: "y", runningJobs: 0 });
  assert.equal(both.verdict.exit, "blackhole", "a black hole is the stronger verdict");
  const late = turn({ hookFault: "x", nowMs: START + 3_481_000, runningJobs: 0 });
  assert.equal(late.verdict.exit, "walltime", "the lifetime still rules");
});
