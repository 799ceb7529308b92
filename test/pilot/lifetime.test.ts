import assert from "node:assert/strict";
import { test } from "node:test";
import { ManualClock } from "../../src/common/clock.js";
import { judge, planLifetime, type ExitReason } from "../../src/pilot/lifetime.js";

const H = 3600_000;
const M = 60_000;

test("retire time is moved earlier by a random share of the spread", () => {
  const start = Date.UTC(2026, 0, 1);
  const s = { maxWalltimeS: 10 * 3600, retireTimeS: 8 * 3600, retireSpreadS: 3600, graceS: 600 };
  assert.equal(planLifetime(s, start, () => 0).retireAtMs, start + 8 * H);
  assert.equal(planLifetime(s, start, () => 0.5).retireAtMs, start + 8 * H - 30 * M);
  const p = planLifetime(s, start, () => 0.25);
  assert.equal(p.dieAtMs, start + 10 * H);
  assert.equal(p.stopJobsAtMs, start + 10 * H - 10 * M);
  assert.equal(p.dieReason, "walltime");
});

test("a credential ending before the walltime becomes the hard deadline", () => {
  const start = Date.UTC(2026, 0, 1);
  const p = planLifetime({ maxWalltimeS: 10 * 3600, graceS: 60 }, start, () => 0, start + 2 * H);
  assert.equal(p.dieAtMs, start + 2 * H);
  assert.equal(p.dieReason, "credential");
  assert.ok(p.retireAtMs <= p.stopJobsAtMs);
  const v = judge(p, { nowMs: start + 2 * H - 30_000, runningJobs: 1 });
  assert.deepEqual([v.exit, v.stopJobs], ["credential", true]);
});

test("decision table over time", () => {
  const clock = new ManualClock();
  const start = clock.now();
  const plan = planLifetime(
    { maxWalltimeS: 4 * 3600, retireTimeS: 3 * 3600, maxIdleS: 1200, maxTailS: 1800, graceS: 300 },
    start,
    () => 0,
  );
  type Row = [string, number, number, number | undefined, boolean, boolean, ExitReason | undefined];
  // label, offset, running, lastJobEnd offset, mayStart, stopJobs, exit
  const rows: Row[] = [
    ["fresh pilot", 0, 0, undefined, true, false, undefined],
    ["idle 19 min", 19 * M, 0, undefined, true, false, undefined],
    ["idle 20 min from start", 20 * M, 0, undefined, false, false, "idle"],
    ["busy for an hour", 60 * M, 2, undefined, true, false, undefined],
    ["idle 10 min after a job", 70 * M, 0, 60 * M, true, false, undefined],
    [
      "idle 20 min after a job: Max_Tail (30 min) applies",
      80 * M,
      0,
      60 * M,
      true,
      false,
      undefined,
    ],
    ["idle 30 min after a job", 90 * M, 0, 60 * M, false, false, "tail"],
    ["retired with jobs running", 3 * H + M, 1, undefined, false, false, undefined],
    ["retired and drained", 3 * H + M, 0, 3 * H, false, false, "retired"],
    ["still busy long after retiring", 3 * H + 50 * M, 1, undefined, false, false, undefined],
    ["graceful stop before walltime", 4 * H - 5 * M, 1, undefined, false, true, "walltime"],
  ];
  for (const [label, off, running, lastEnd, mayStart, stopJobs, exit] of rows) {
    const v = judge(plan, {
      nowMs: start + off,
      runningJobs: running,
      lastJobEndMs: lastEnd === undefined ? undefined : start + lastEnd,
    });
    assert.deepEqual([v.mayStartJobs, v.stopJobs, v.exit], [mayStart, stopJobs, exit], label);
  }
});

test("GLIDEIN_Max_Tail is the idle limit once jobs have run", () => {
  const plan = planLifetime(
    { maxWalltimeS: 4 * 3600, maxIdleS: 1200, maxTailS: 300, graceS: 60 },
    0,
    () => 0,
  );
  const at = (nowMs: number, lastJobEndMs?: number) =>
    judge(plan, { nowMs, runningJobs: 0, lastJobEndMs }).exit;
  assert.equal(at(10 * M), undefined, "no job yet: Max_Idle applies");
  assert.equal(at(20 * M), "idle");
  assert.equal(at(14 * M, 10 * M), undefined);
  assert.equal(at(15 * M, 10 * M), "tail");
  const noTail = planLifetime({ maxWalltimeS: 4 * 3600, maxIdleS: 1200 }, 0, () => 0);
  assert.equal(
    judge(noTail, { nowMs: 15 * M, runningJobs: 0, lastJobEndMs: 10 * M }).exit,
    undefined,
  );
});

test("SIGTERM means the hard deadline: stop jobs and exit", () => {
  const plan = planLifetime({ maxWalltimeS: 3600 }, 0, () => 0);
  const v = judge(plan, { nowMs: 1000, runningJobs: 3, terminated: true });
  assert.deepEqual([v.mayStartJobs, v.stopJobs, v.exit], [false, true, "terminated"]);
});

test("next change points at the earliest pending deadline", () => {
  const plan = planLifetime({ maxWalltimeS: 3600, maxIdleS: 600, graceS: 60 }, 0, () => 0);
  assert.equal(judge(plan, { nowMs: 0, runningJobs: 0 }).nextChangeInMs, 600_000);
  assert.equal(judge(plan, { nowMs: 0, runningJobs: 1 }).nextChangeInMs, 3540_000);
});
