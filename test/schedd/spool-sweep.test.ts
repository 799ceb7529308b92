/**
 * Spool space comes back: a finished job's input goes at the next sweep, its output after
 * keep_output_s, a removed job's directory at once, and directories no job owns (a schedd
 * killed between a job leaving the queue and the sweep) at the next start. A queued job keeps
 * everything. Real schedd, real files.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import type { FileChunk } from "../../src/schedd/messages.js";
import { spoolVerdict } from "../../src/schedd/spool-sweep.js";
import { job, slot, startEnv, type TestEnv } from "./harness.js";

let env: TestEnv;
before(async () => {
  env = await startEnv({ extra: { sandbox: { keep_output_s: 7200 } } });
});
after(() => env.close());

const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");
const chunk = (name: string, data: Buffer, extra: Partial<FileChunk>): FileChunk => ({
  name,
  offset: 0,
  data,
  last: true,
  sha256: sha(data),
  leaseId: "",
  jobId: "",
  ...extra,
});
const spool = (...parts: (string | number)[]) =>
  join(env.config.state_dir, "spool", ...parts.map(String));

test("what happens to a job's spool directory", () => {
  const h = 3_600_000;
  const done = (status: number, atMs: number) => ({ inQueue: false, finished: { status, atMs } });
  assert.equal(spoolVerdict({ inQueue: true }, 10 * h, 2 * h), "keep");
  assert.equal(spoolVerdict(done(4, 9 * h), 10 * h, 2 * h), "drop-input");
  assert.equal(spoolVerdict(done(4, 7 * h), 10 * h, 2 * h), "drop");
  assert.equal(spoolVerdict(done(3, 9.9 * h), 10 * h, 2 * h), "drop", "removed: no output wanted");
  assert.equal(spoolVerdict({ inQueue: false }, 10 * h, 2 * h), "drop", "no record of it");
});

test("input goes after completion, output after keep_output_s; queued jobs keep theirs", async () => {
  const alice = env.client("alice");
  const pilot = env.client("pilot");
  const cluster = await alice.newCluster();
  await alice.submitJobs(cluster, [job(), job()], { holdForInput: true });
  await alice.putInput(chunk("shared.dat", Buffer.from("s"), { jobId: String(cluster) }));
  for (const p of [0, 1]) {
    await alice.putInput(chunk("in.txt", Buffer.from(`in ${p}`), { jobId: `${cluster}.${p}` }));
  }
  await alice.act("release", { ids: [String(cluster)] });
  const offer = await pilot.claimJob(slot());
  assert.equal(offer.jobId, `${cluster}.0`);
  await pilot.putOutput(chunk("out.txt", Buffer.from("out"), { leaseId: offer.leaseId }));
  await pilot.completeJob({ leaseId: offer.leaseId, exitCode: 0 });

  env.schedd.tick();
  assert.equal(existsSync(spool(cluster, 0, "input")), false, "the finished job's input went");
  assert.equal(existsSync(spool(cluster, 0, "output", "out.txt")), true, "its output waits");
  assert.equal(existsSync(spool(cluster, 1, "input", "in.txt")), true, "the queued job's stays");
  assert.equal(existsSync(spool(cluster, "shared")), true, "job 1 still needs the shared input");

  env.clock.advance(2 * 3_600_000 + 1000);
  env.schedd.tick();
  assert.equal(existsSync(spool(cluster, 0)), false, "kept for keep_output_s, then gone");
  assert.equal(existsSync(spool(cluster, 1, "input", "in.txt")), true);

  await alice.act("remove", { ids: [`${cluster}.1`] });
  env.schedd.tick();
  assert.equal(existsSync(spool(cluster)), false, "nothing of the cluster is left");
});

test("directories no queued job owns are swept at start; a queued job's are not", async () => {
  const alice = env.client("alice");
  const cluster = await alice.newCluster();
  await alice.submitJobs(cluster, [job()], { holdForInput: true });
  await alice.putInput(chunk("in.txt", Buffer.from("x"), { jobId: `${cluster}.0` }));
  // Left behind by a schedd killed after the jobs left the queue, before any sweep.
  mkdirSync(spool(9999, 0, "output"), { recursive: true });
  writeFileSync(spool(9999, 0, "output", "out.txt"), "orphan");
  mkdirSync(spool(9999, "shared", "input"), { recursive: true });
  // Not the schedd's: left alone.
  mkdirSync(spool("lost+found"), { recursive: true });
  await env.restart();
  assert.equal(existsSync(spool(9999)), false);
  assert.equal(existsSync(spool("lost+found")), true);
  assert.equal(existsSync(spool(cluster, 0, "input", "in.txt")), true);
  await env.client("alice").act("remove", { ids: [String(cluster)] });
});
