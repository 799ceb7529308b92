/**
 * A pilot that could not run a job as asked (no executable, an output file it cannot open)
 * reports it with a hold: the job is Held with HTCondor's hold code, not completed, once.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { codeOf, job, slot, startEnv, submit, type TestEnv } from "./harness.js";

let env: TestEnv;
before(async () => {
  env = await startEnv();
});
after(() => env.close());

test("a completion with a hold reason holds the job instead of completing it", async () => {
  const alice = env.client("alice");
  const pilot = env.client("pilot");
  const c = await submit(alice, [job()]);
  const offer = await pilot.claimJob(slot());
  const receipt = await pilot.completeJob({
    leaseId: offer.leaseId,
    exitCode: 1,
    holdReason: "Error from the pilot: cannot start the job: spawn /nope ENOENT",
    holdCode: 6,
    holdSubcode: 2,
  });
  assert.equal(receipt.jobStatus, 5);
  await env.restart();
  const [ad] = await env.client("alice").query({ ids: [`${c}.0`] });
  assert.equal(ad!.JobStatus, "5");
  assert.equal(ad!.HoldReasonCode, "6");
  assert.equal(ad!.HoldReasonSubCode, "2");
  assert.match(ad!.HoldReason ?? "", /ENOENT/);
  assert.equal(ad!.NumJobCompletions ?? "0", "0", "a held run is not a completion");
  assert.equal(ad!.RemoteHost, undefined);
  // The lease ended with the report: a retry of the same report changes nothing.
  const again = await env
    .client("pilot")
    .completeJob({ leaseId: offer.leaseId })
    .then(() => "accepted", codeOf);
  assert.equal(again, "already-exists");
  // Released by its owner, it runs again.
  await env.client("alice").act("release", { ids: [`${c}.0`] });
  const next = await env.client("pilot").claimJob(slot());
  assert.equal(next.jobId, `${c}.0`);
});
