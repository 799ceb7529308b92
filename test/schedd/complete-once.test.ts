import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { codeOf, job, reasonOf, slot, startEnv, submit, type TestEnv } from "./harness.js";

let env: TestEnv;
before(async () => {
  env = await startEnv();
});
after(() => env.close());

test("CompleteJob moves the job to history with its exit, exactly once", async () => {
  const alice = env.client("alice");
  const pilot = env.client("pilot");
  const c = await submit(alice, [job()]);
  const offer = await pilot.claimJob(slot());
  env.clock.advance(90_000);
  const receipt = await pilot.completeJob({
    leaseId: offer.leaseId,
    exitCode: 0,
    cpuUserSeconds: 40,
    outputs: [{ name: "out.txt", size: 3, sha256: "" }],
  });
  assert.equal(receipt.jobStatus, 4);
  assert.equal((await alice.query({ ids: [String(c)] })).length, 0);
  const [h] = await alice.query({ ids: [String(c)], history: true });
  assert.equal(h!.JobStatus, "4");
  assert.equal(h!.ExitCode, "0");
  assert.equal(h!.RemoteWallClockTime, "90");
  assert.equal(h!.CompletionDate, String(Math.floor(env.clock.now() / 1000)));
  assert.equal(h!.LastRemoteHost, '"slot1@glidein_1"');

  await assert.rejects(
    pilot.completeJob({ leaseId: offer.leaseId, exitCode: 1 }),
    (e) => codeOf(e) === "already-exists" && reasonOf(e) === "duplicate-completion",
  );
  const again = await alice.query({ ids: [String(c)], history: true });
  assert.deepEqual(again, [h], "the duplicate changed nothing");
});

test("an unknown lease is refused", async () => {
  await assert.rejects(
    env.client("pilot").completeJob({ leaseId: "no-such-lease" }),
    (e) => codeOf(e) === "not-found" && reasonOf(e) === "unknown-lease",
  );
});
