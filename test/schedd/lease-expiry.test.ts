import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { codeOf, job, reasonOf, slot, startEnv, submit, type TestEnv } from "./harness.js";

let env: TestEnv;
before(async () => {
  env = await startEnv({ extra: { lease_s: 600 } });
});
after(() => env.close());

test("a lapsed lease puts the job back to Idle, counting the start", async () => {
  const alice = env.client("alice");
  const pilot = env.client("pilot");
  const c = await submit(alice, [job()]);
  const offer = await pilot.claimJob(slot());
  env.clock.advance(9 * 60_000);
  env.schedd.tick();
  assert.equal((await alice.query({ ids: [`${c}.0`] }))[0]!.JobStatus, "2", "not yet lapsed");
  env.clock.advance(60_000);
  env.schedd.tick();
  const [ad] = await alice.query({ ids: [`${c}.0`] });
  assert.equal(ad!.JobStatus, "1");
  assert.equal(ad!.NumJobStarts, "1");
  assert.equal(ad!.RemoteWallClockTime, "600");
  assert.equal(ad!.LastRemoteHost, '"slot1@glidein_1"');

  const hb = await pilot.heartbeat(offer.leaseId);
  assert.equal(hb.action, "kill");
  await assert.rejects(
    pilot.completeJob({ leaseId: offer.leaseId }),
    (e) => codeOf(e) === "not-found" && reasonOf(e) === "stale-lease",
  );

  const again = await pilot.claimJob(slot());
  assert.equal(again.jobId, `${c}.0`);
  assert.equal(again.job!.attrs.NumJobStarts, "2");
  assert.notEqual(again.leaseId, offer.leaseId);
});

test("leases survive a restart with their expiry", async () => {
  const alice = env.client("alice");
  const c = await submit(alice, [job()]);
  const offer = await env.client("pilot").claimJob(slot());
  await env.restart();
  const hb = await env.client("pilot").heartbeat(offer.leaseId);
  assert.equal(hb.action, "continue");
  env.clock.advance(11 * 60_000);
  env.schedd.tick();
  assert.equal((await env.client("alice").query({ ids: [`${c}.0`] }))[0]!.JobStatus, "1");
});
