/**
 * Fair share outlives a schedd restart: the usage each claim charges is in the schedd's database,
 * so an owner who just ran many jobs does not jump the queue again after a restart.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { job, slot, startEnv, submit, type TestEnv } from "./harness.js";

let env: TestEnv;
before(async () => {
  env = await startEnv();
});
after(() => env.close());

test("an owner's recent usage still counts after a restart", async () => {
  const pilot = env.client("pilot");
  await submit(env.client("alice"), [job(), job(), job()]);
  for (let i = 0; i < 3; i++) {
    const offer = await pilot.claimJob(slot());
    assert.ok(offer.matched);
    await pilot.completeJob({ leaseId: offer.leaseId, exitCode: 0 });
  }
  await env.restart();
  // alice's job is older, so without her usage it would go first.
  await submit(env.client("alice"), [job()]);
  env.clock.advance(1000);
  await submit(env.client("bob"), [job()]);
  const first = await env.client("pilot").claimJob(slot());
  assert.equal(first.job!.attrs.Owner, '"bob"');
  const second = await env.client("pilot").claimJob(slot());
  assert.equal(second.job!.attrs.Owner, '"alice"');
});
