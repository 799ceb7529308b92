import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { codeOf, job, reasonOf, slot, startEnv, submit, type TestEnv } from "./harness.js";

let env: TestEnv;
before(async () => {
  env = await startEnv();
});
after(() => env.close());

test("a heartbeat extends the lease", async () => {
  await submit(env.client("alice"), [job()]);
  const pilot = env.client("pilot");
  const offer = await pilot.claimJob(slot());
  env.clock.advance(5 * 60_000);
  const hb = await pilot.heartbeat(offer.leaseId);
  assert.equal(hb.action, "continue");
  assert.equal(hb.leaseExpiresMs, env.clock.now() + 20 * 60_000);
});

test("a heartbeat tells the pilot to kill a job removed or held meanwhile", async () => {
  const alice = env.client("alice");
  const pilot = env.client("pilot");
  const c = await submit(alice, [job(), job()]);
  const first = await pilot.claimJob(slot());
  const second = await pilot.claimJob(slot());
  await alice.act("remove", { ids: [first.jobId] }, "wrong input");
  await alice.act("hold", { ids: [second.jobId] }, "pause");
  const hb1 = await pilot.heartbeat(first.leaseId);
  assert.deepEqual([hb1.action, hb1.reason], ["kill", "wrong input"]);
  const hb2 = await pilot.heartbeat(second.leaseId);
  assert.deepEqual([hb2.action, hb2.reason], ["kill", "pause"]);
  // The held job keeps its run accounted and leaves no RemoteHost behind.
  const [held] = await alice.query({ ids: [`${c}.1`] });
  assert.equal(held!.JobStatus, "5");
  assert.equal(held!.RemoteHost, undefined);
  assert.equal(held!.LastRemoteHost, '"slot1@glidein_1"');
  // Completing a killed lease is refused and changes nothing.
  await assert.rejects(
    pilot.completeJob({ leaseId: second.leaseId }),
    (e) => codeOf(e) === "not-found" && reasonOf(e) === "stale-lease",
  );
  assert.equal((await alice.query({ ids: [`${c}.1`] }))[0]!.JobStatus, "5");
});

test("another pilot cannot heartbeat or complete someone else's lease", async () => {
  await submit(env.client("alice"), [job()]);
  const offer = await env.client("pilot").claimJob(slot());
  await assert.rejects(
    env.client("pilot2").heartbeat(offer.leaseId),
    (e) => codeOf(e) === "permission-denied",
  );
  await assert.rejects(
    env.client("pilot2").completeJob({ leaseId: offer.leaseId }),
    (e) => codeOf(e) === "permission-denied",
  );
});

test("users cannot call pilot methods", async () => {
  await assert.rejects(
    env.client("alice").claimJob(slot()),
    (e) => codeOf(e) === "permission-denied",
  );
});
