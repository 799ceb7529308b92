import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { job, slot, startEnv, submit, codeOf, type TestEnv } from "./harness.js";

let env: TestEnv;
before(async () => {
  env = await startEnv();
});
after(() => env.close());

test("submit queues a cluster with the schedd's attributes set", async () => {
  const alice = env.client("alice");
  const cluster = await alice.newCluster();
  const receipt = await alice.submitJobs(cluster, [job(), job(), job({ Owner: '"mallory"' })]);
  assert.deepEqual(receipt, { clusterId: cluster, count: 3 });
  const ads = await alice.query({ ids: [String(cluster)] });
  assert.equal(ads.length, 3);
  assert.deepEqual(
    ads.map((a) => [a.ClusterId, a.ProcId, a.Owner, a.JobStatus, a.NumJobStarts]),
    [0, 1, 2].map((p) => [String(cluster), String(p), '"alice"', "1", "0"]),
  );
  const qdate = String(Math.floor(env.clock.now() / 1000));
  assert.equal(ads[0]!.QDate, qdate);
  assert.equal(ads[0]!.EnteredCurrentStatus, qdate);
});

test("a cluster is submitted once: a resend is refused and queues nothing", async () => {
  const alice = env.client("alice");
  const cluster = await submit(alice, [job()]);
  await assert.rejects(alice.submitJobs(cluster, [job()]), (e) => codeOf(e) === "already-exists");
  assert.equal((await alice.query({ ids: [String(cluster)] })).length, 1);
});

test("submitting to another user's reserved cluster is refused", async () => {
  const cluster = await env.client("alice").newCluster();
  await assert.rejects(
    env.client("bob").submitJobs(cluster, [job()]),
    (e) => codeOf(e) === "permission-denied",
  );
});

test("a bad expression refuses the whole cluster", async () => {
  const alice = env.client("alice");
  const cluster = await alice.newCluster();
  await assert.rejects(
    alice.submitJobs(cluster, [job(), job({ Requirements: "Cpus >=" })]),
    (e) => codeOf(e) === "invalid-argument",
  );
  assert.equal((await alice.query({ ids: [String(cluster)] })).length, 0);
});

test("query takes a constraint, a projection and a limit", async () => {
  const alice = env.client("alice");
  const cluster = await submit(alice, [job({ JobPrio: "5" }), job(), job({ JobPrio: "5" })]);
  const ads = await alice.query({
    constraint: `ClusterId == ${cluster} && JobPrio == 5`,
    projection: ["ProcId", "JobPrio"],
  });
  assert.deepEqual(ads, [
    { ProcId: "0", JobPrio: "5" },
    { ProcId: "2", JobPrio: "5" },
  ]);
  const one = await alice.query({ constraint: `ClusterId == ${cluster}`, limit: 1 });
  assert.equal(one.length, 1);
  await assert.rejects(alice.query({ constraint: "((" }), (e) => codeOf(e) === "invalid-argument");
});

test("a job submitted on hold stays held, also past an input upload, until its owner releases it", async () => {
  const alice = env.client("alice");
  const held = job({
    JobStatus: "5",
    HoldReason: '"submitted on hold at user\'s request"',
    HoldReasonCode: "15",
  });
  for (const holdForInput of [false, true]) {
    const cluster = await alice.newCluster();
    await alice.submitJobs(cluster, [held, job()], { holdForInput });
    if (holdForInput) {
      // What `updraft submit` does once the inputs are up: release the jobs held for them.
      await alice.act("release", { ids: [String(cluster)], constraint: "HoldReasonCode == 16" });
    }
    const ads = await alice.query({
      ids: [String(cluster)],
      projection: ["ProcId", "JobStatus", "HoldReasonCode"],
    });
    assert.deepEqual(
      ads.map((a) => [a.ProcId, a.JobStatus, a.HoldReasonCode]),
      [
        ["0", "5", "15"],
        ["1", "1", undefined],
      ],
      `holdForInput ${holdForInput}`,
    );
    // A pilot takes everything it is offered; the held job is never among it.
    const handed: string[] = [];
    for (let i = 0; i < 100; i++) {
      const offer = await env.client("pilot").claimJob(slot());
      if (!offer.matched) break;
      handed.push(offer.jobId);
    }
    assert.ok(handed.includes(`${cluster}.1`), "the job not on hold runs");
    assert.ok(!handed.includes(`${cluster}.0`), "the held job is not handed out");
  }
});
