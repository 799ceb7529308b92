import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { exitPolicy, periodicPolicy } from "../../src/schedd/policy.js";
import { job, slot, startEnv, submit, type TestEnv } from "./harness.js";

let env: TestEnv;
before(async () => {
  env = await startEnv();
});
after(() => env.close());

async function runOnce(exitCode: number, bySignal = false) {
  const pilot = env.client("pilot");
  const offer = await pilot.claimJob(slot());
  assert.ok(offer.matched);
  return pilot.completeJob({
    leaseId: offer.leaseId,
    exitCode,
    exitBySignal: bySignal,
    exitSignal: bySignal ? 9 : 0,
  });
}

test("MaxRetries: a failing job runs again until it completed more than MaxRetries times", async () => {
  const alice = env.client("alice");
  const c = await submit(alice, [job({ JobMaxRetries: "2" })]);
  assert.equal((await runOnce(1)).jobStatus, 1);
  assert.equal((await runOnce(1)).jobStatus, 1);
  assert.equal((await runOnce(1)).jobStatus, 4);
  const [h] = await alice.query({ ids: [String(c)], history: true });
  assert.deepEqual([h!.NumJobCompletions, h!.NumJobStarts, h!.ExitCode], ["3", "3", "1"]);
});

test("MaxRetries: success ends the retries", async () => {
  await submit(env.client("alice"), [job({ MaxRetries: "5" })]);
  assert.equal((await runOnce(1)).jobStatus, 1);
  assert.equal((await runOnce(0)).jobStatus, 4);
});

test("OnExitHold holds with HTCondor's reason; OnExitRemove = false requeues", async () => {
  const alice = env.client("alice");
  const c = await submit(alice, [job({ OnExitHold: "ExitCode == 3" })]);
  assert.equal((await runOnce(3)).jobStatus, 5);
  const [ad] = await alice.query({ ids: [`${c}.0`] });
  assert.equal(ad!.HoldReasonCode, "3");
  assert.equal(
    ad!.HoldReason,
    `"The job attribute OnExitHold expression 'ExitCode == 3' evaluated to TRUE"`,
  );
  await alice.act("remove", { ids: [String(c)] });

  await submit(alice, [job({ OnExitRemove: "ExitBySignal == false" })]);
  assert.equal((await runOnce(0, true)).jobStatus, 1);
  assert.equal((await runOnce(0)).jobStatus, 4);
});

test("periodic expressions are evaluated on the timer with the schedd's clock", async () => {
  const alice = env.client("alice");
  const c = await submit(alice, [
    job({
      PeriodicHold: "(time() - QDate) > 3600",
      PeriodicRelease: "NumHolds < 2 && (time() - EnteredCurrentStatus) > 600",
    }),
    job({ PeriodicRemove: "JobStatus == 1 && (time() - QDate) > 7200" }),
  ]);
  env.schedd.tick();
  let ads = await alice.query({ ids: [String(c)] });
  assert.deepEqual(
    ads.map((a) => a.JobStatus),
    ["1", "1"],
  );
  env.clock.advance(3601_000);
  env.schedd.tick();
  ads = await alice.query({ ids: [String(c)] });
  assert.equal(ads[0]!.JobStatus, "5");
  assert.equal(ads[0]!.HoldReasonCode, "3");
  env.clock.advance(601_000);
  env.schedd.tick();
  ads = await alice.query({ ids: [String(c)] });
  assert.equal(ads[0]!.JobStatus, "1", "released");
  env.clock.advance(3600_000);
  env.schedd.tick();
  ads = await alice.query({ ids: [String(c)] });
  assert.equal(ads.length, 1, "the second job was removed");
  assert.equal(ads[0]!.JobStatus, "5", "held again");
  const [h] = await alice.query({ ids: [`${c}.1`], history: true });
  assert.equal(h!.JobStatus, "3");
});

test("pure evaluators: OnExitRemove UNDEFINED means leave; PeriodicRemove applies to held jobs", () => {
  assert.deepEqual(exitPolicy({ ExitCode: "1", OnExitRemove: "Undefined" }, 0), {
    kind: "complete",
  });
  assert.deepEqual(periodicPolicy({ PeriodicRemove: "true" }, 5, 0).kind, "remove");
  assert.deepEqual(periodicPolicy({ PeriodicHold: "true" }, 5, 0).kind, "none");
  assert.deepEqual(periodicPolicy({ PeriodicRelease: "true" }, 1, 0).kind, "none");
});
