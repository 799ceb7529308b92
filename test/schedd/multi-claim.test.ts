/**
 * ClaimJob for several jobs at once (SlotOffer.max_jobs) and completions carried by a claim
 * (SlotOffer.completions), against a real schedd; and a pilot from before both fields, whose
 * messages are encoded and decoded here with the messages as they were.
 */
import assert from "node:assert/strict";
import { after, afterEach, before, test } from "node:test";
import protobuf from "protobufjs";
import { NO_EXIT } from "../../src/schedd/client.js";
import { job, slot, startEnv, submit, type TestEnv } from "./harness.js";

let env: TestEnv;
before(async () => {
  env = await startEnv();
});
after(() => env.close());
afterEach(async () => {
  await env.client("admin").act("remove", { constraint: "true" });
});

test("a claim for several jobs hands out distinct jobs, each within what the slot has left", async () => {
  const alice = env.client("alice");
  const pilot = env.client("pilot");
  const c = await submit(
    alice,
    Array.from({ length: 6 }, () => job()),
  );
  // 2,560 MB: the second 1,024 MB job fits, a third does not, though CPUs are left.
  const byMemory = await pilot.claimJob(slot({ Memory: "2560" }), 0, undefined, {
    maxJobs: 4,
    slotNumber: 5,
  });
  const got = [byMemory, ...(byMemory.moreJobs ?? [])];
  assert.deepEqual(
    got.map((o) => o.jobId),
    [`${c}.0`, `${c}.1`],
  );
  assert.equal(new Set(got.map((o) => o.leaseId)).size, 2);
  assert.deepEqual(
    got.map((o) => o.job!.attrs.RemoteHost),
    ['"slot1_5@glidein_1"', '"slot1_6@glidein_1"'],
  );
  // 3 CPUs: three one-CPU jobs and no more, whatever max_jobs says.
  const byCpus = await pilot.claimJob(slot({ Cpus: "3" }), 0, undefined, { maxJobs: 10 });
  assert.equal(1 + (byCpus.moreJobs ?? []).length, 3);
  const running = await alice.query({ constraint: "JobStatus == 2" });
  assert.equal(running.length, 5);
  // Only the sixth job is left; max_jobs 0 (a pilot that does not say) takes one.
  const one = await pilot.claimJob(slot(), 0, undefined, { maxJobs: 0 });
  assert.equal(one.jobId, `${c}.5`);
  assert.equal((one.moreJobs ?? []).length, 0);
});

test("completions carried by a claim are each answered, a refused one without stopping the claim", async () => {
  const alice = env.client("alice");
  const pilot = env.client("pilot");
  const c = await submit(alice, [job(), job(), job()]);
  const first = await pilot.claimJob(slot(), 0, undefined, { maxJobs: 2 });
  const [a, b] = [first, first.moreJobs![0]!];
  const offer = await pilot.claimJob(slot(), 0, undefined, {
    completions: [
      { ...NO_EXIT, leaseId: a.leaseId, exitCode: 0 },
      { ...NO_EXIT, leaseId: a.leaseId, exitCode: 0 },
      { ...NO_EXIT, leaseId: "no-such-lease" },
      { ...NO_EXIT, leaseId: b.leaseId, exitCode: 3 },
    ],
  });
  assert.equal(offer.jobId, `${c}.2`, "the claim itself goes on");
  const answers = offer.completions!;
  assert.equal(answers.length, 4);
  assert.equal(answers[0]!.jobStatus, 4);
  assert.equal(answers[1]!.error?.code, "already-exists");
  assert.equal(answers[1]!.error?.details.reason, "duplicate-completion");
  assert.equal(answers[2]!.error?.code, "not-found");
  assert.equal(answers[3]!.jobStatus, 4);
  const done = await alice.query({ history: true, constraint: `ClusterId == ${c}` });
  assert.deepEqual(done.map((j) => [j.ProcId, j.ExitCode, j.NumJobCompletions]).sort(), [
    ["0", "0", "1"],
    ["1", "3", "1"],
  ]);
});

/** SlotOffer and JobOffer as pilots and schedds spoke them before max_jobs and completions. */
const BEFORE = protobuf.parse(`
  syntax = "proto3";
  message ClassAd { map<string, string> attrs = 1; }
  message SlotOffer { ClassAd slot = 1; uint32 wait_seconds = 2; }
  message JobOffer {
    bool matched = 1; string job_id = 2; ClassAd job = 3; string lease_id = 4;
    uint64 lease_expires_ms = 5; uint64 now_ms = 6;
  }
`).root;

test("a pilot from before the new fields gets one job and a reply it reads as before", async () => {
  const alice = env.client("alice");
  const rpc = env.client("pilot").rpc;
  const c = await submit(alice, [job(), job(), job()]);
  const SlotOffer = BEFORE.lookupType("SlotOffer");
  const JobOffer = BEFORE.lookupType("JobOffer");
  const req = SlotOffer.encode(SlotOffer.fromObject({ slot: { attrs: slot() } })).finish();
  const reply = JobOffer.toObject(JobOffer.decode(await rpc.call("schedd.ClaimJob", req)), {
    longs: Number,
  }) as {
    matched: boolean;
    jobId: string;
    leaseId: string;
    job: { attrs: Record<string, string> };
  };
  assert.equal(reply.matched, true);
  assert.equal(reply.jobId, `${c}.0`);
  assert.equal(reply.job.attrs.JobStatus, "2");
  const running = await alice.query({ constraint: "JobStatus == 2" });
  assert.deepEqual(
    running.map((j) => j.ProcId),
    ["0"],
    "one job, as before",
  );
});
