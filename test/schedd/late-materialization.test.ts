/**
 * Late materialization at a real schedd: a cluster submitted with `max_idle` or
 * `max_materialize` has only that many jobs in the queue (idle, or at all), the rest enter in
 * proc order as pilots claim and finish earlier ones, across a schedd restart; `q` shows the
 * cluster's whole size; `rm CLUSTER` drops the jobs still waiting and `rm CLUSTER.PROC` does not;
 * an owner's waiting jobs are bounded.
 */
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import type { JobAttrs } from "../../src/schedd/job-status.js";
import { codeOf, job, runCli, slot, startEnv, type TestEnv } from "./harness.js";

let env: TestEnv;
let work: string;
before(async () => {
  env = await startEnv({ extra: { max_unmaterialized_jobs: 50 } });
  work = join(env.dir, "submit");
  mkdirSync(work);
});
after(() => env.close());

/** Queued jobs of a cluster: `proc:status`, in proc order. */
async function queued(cluster: number | string): Promise<string[]> {
  const ads = await env.client("alice").query({ ids: [String(cluster)] });
  return ads.map((a) => `${a.ProcId}:${a.JobStatus}`);
}

async function submitLimited(n: number, limits: JobAttrs): Promise<number> {
  const alice = env.client("alice");
  const cluster = await alice.newCluster();
  const jobs = Array.from({ length: n }, (_, i) => job({ ProcId: String(i), ...limits }));
  const receipt = await alice.submitJobs(cluster, jobs);
  assert.equal(receipt.count, n, "every job counts as submitted");
  return cluster;
}

const LINUX_SLOT = slot({ OpSys: '"LINUX"', Arch: '"X86_64"' });

/** A pilot claims one job and returns its lease (and the job's id). */
async function claim(): Promise<{ jobId: string; leaseId: string }> {
  const offer = await env.client("pilot").claimJob(LINUX_SLOT);
  assert.ok(offer.matched, "a job to claim");
  return offer;
}

test("max_idle through updraft submit: two idle at a time, q shows the whole cluster", async () => {
  writeFileSync(join(work, "run.sh"), "#!/bin/sh\ntrue\n", { mode: 0o755 });
  writeFileSync(
    join(work, "job.sub"),
    "executable = run.sh\nrequest_memory = 64\nmax_idle = 2\nqueue 5\n",
  );
  const sub = await runCli(env, work, ["submit", "job.sub"]);
  assert.equal(sub.code, 0, sub.stderr);
  assert.doesNotMatch(sub.stderr, /max_idle/, "no warning: the command is honoured");
  assert.match(sub.stdout, /5 job\(s\) submitted to cluster (\d+)/);
  const cluster = /submitted to cluster (\d+)/.exec(sub.stdout)![1]!;
  // The executable arrived for the whole cluster before its first jobs were released.
  assert.deepEqual(await queued(cluster), ["0:1", "1:1"]);
  const [ad] = await env.client("alice").query({ ids: [`${cluster}.0`] });
  assert.equal(ad!.JobMaterializeMaxIdle, "2");
  assert.equal(ad!.TotalSubmitProcs, "5");
  const q = await runCli(env, work, ["q"]);
  assert.equal(q.code, 0, q.stderr);
  const row = q.stdout.split("\n").find((l) => l.startsWith("alice"))!;
  assert.match(row, new RegExp(`_ +_ +2 +_ +5 +${cluster}$`), row);

  // Each claim leaves one idle slot, filled by the next proc.
  const first = await claim();
  assert.equal(first.jobId, `${cluster}.0`);
  assert.deepEqual(await queued(cluster), ["0:2", "1:1", "2:1"]);
  for (let i = 1; i < 5; i++) await claim();
  assert.deepEqual(await queued(cluster), ["0:2", "1:2", "2:2", "3:2", "4:2"]);
  const offer = await env.client("pilot").claimJob(LINUX_SLOT);
  assert.equal(offer.matched, false, "nothing more to claim");
});

test("max_materialize: at most N in the queue, the next enters as one ends, across a restart", async () => {
  const cluster = await submitLimited(5, { JobMaterializeLimit: "2" });
  assert.deepEqual(await queued(cluster), ["0:1", "1:1"]);
  const a = await claim();
  assert.deepEqual(await queued(cluster), ["0:2", "1:1"], "a running job still counts");
  await env.client("pilot").completeJob({ leaseId: a.leaseId, exitCode: 0 });
  assert.deepEqual(await queued(cluster), ["1:1", "2:1"]);

  await env.restart();
  assert.deepEqual(await queued(cluster), ["1:1", "2:1"], "the same jobs after a restart");
  await env.client("alice").act("hold", { ids: [`${cluster}.1`] });
  assert.deepEqual(await queued(cluster), ["1:5", "2:1"], "a held job keeps its place");
  await env.client("alice").act("remove", { ids: [`${cluster}.1`] });
  assert.deepEqual(await queued(cluster), ["2:1", "3:1"], "removing one job lets the next in");
  const history = await env.client("alice").query({ ids: [String(cluster)], history: true });
  assert.deepEqual(history.map((h) => h.ProcId).sort(), ["0", "1"]);
});

test("rm CLUSTER drops the jobs still waiting; nothing enters afterwards", async () => {
  const cluster = await submitLimited(6, { JobMaterializeMaxIdle: "1" });
  assert.deepEqual(await queued(cluster), ["0:1"]);
  const res = await env.client("alice").act("remove", { ids: [String(cluster)] });
  assert.deepEqual(res, { done: [`${cluster}.0`], refused: [] });
  env.schedd.tick();
  assert.deepEqual(await queued(cluster), [], "none of the waiting five entered");
  const history = await env.client("alice").query({ ids: [String(cluster)], history: true });
  assert.deepEqual(
    history.map((h) => `${h.ProcId}:${h.JobStatus}`),
    ["0:3"],
  );
});

test("an owner's waiting jobs are bounded, and another user cannot upload to them", async () => {
  const alice = env.client("alice");
  const big = await alice.newCluster();
  const jobs = Array.from({ length: 60 }, (_, i) =>
    job({ ProcId: String(i), JobMaterializeLimit: "5" }),
  );
  await assert.rejects(
    alice.submitJobs(big, jobs),
    (e) =>
      codeOf(e) === "invalid-argument" &&
      /more than 50 \(max_unmaterialized_jobs\)/.test((e as Error).message),
  );
  assert.deepEqual(await queued(big), [], "nothing of a refused cluster was queued");

  const cluster = await submitLimited(4, { JobMaterializeLimit: "1" });
  await assert.rejects(
    env.client("bob").putInput({
      name: "data.txt",
      offset: 0,
      data: Buffer.from("x"),
      last: true,
      sha256: "2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881",
      leaseId: "",
      jobId: `${cluster}.3`,
    }),
    (e) => codeOf(e) === "permission-denied",
  );
  // Its owner may: the job's own inputs arrive while it waits.
  await alice.putInput({
    name: "data.txt",
    offset: 0,
    data: Buffer.from("x"),
    last: true,
    sha256: "2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881",
    leaseId: "",
    jobId: `${cluster}.3`,
  });
});

test("max_materialize with queue from: each job's own inputs wait with it and arrive", async () => {
  // Only this cluster's jobs are left to claim.
  await env.client("alice").act("remove", { owner: "alice" });
  for (const x of ["a", "b", "c", "d"]) writeFileSync(join(work, `in_${x}.txt`), `input ${x}\n`);
  writeFileSync(
    join(work, "from.sub"),
    [
      "executable = run.sh",
      "arguments = $(item)",
      "transfer_input_files = in_$(item).txt",
      "request_memory = 64",
      "max_materialize = 2",
      "queue item from (",
      "a",
      "b",
      "c",
      "d",
      ")",
      "",
    ].join("\n"),
  );
  const sub = await runCli(env, work, ["submit", "from.sub"]);
  assert.equal(sub.code, 0, sub.stderr);
  const cluster = /4 job\(s\) submitted to cluster (\d+)/.exec(sub.stdout)![1]!;
  assert.deepEqual(await queued(cluster), ["0:1", "1:1"]);
  const spool = join(env.dir, "state", "spool", cluster);
  assert.equal(readFileSync(join(spool, "3", "input", "in_d.txt"), "utf8"), "input d\n");

  for (let i = 0; i < 2; i++) {
    const lease = await claim();
    await env.client("pilot").completeJob({ leaseId: lease.leaseId, exitCode: 0 });
  }
  const ads = await env.client("alice").query({ ids: [cluster] });
  assert.deepEqual(
    ads.map((a) => [a.ProcId, a.JobStatus, a.Arguments, a.TransferInput]),
    [
      ["2", "1", '"c"', '"in_c.txt"'],
      ["3", "1", '"d"', '"in_d.txt"'],
    ],
  );
  // The spool sweep keeps the inputs of jobs that have yet to run.
  env.schedd.tick();
  assert.equal(readFileSync(join(spool, "3", "input", "in_d.txt"), "utf8"), "input d\n");
});
