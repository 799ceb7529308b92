/**
 * `sandbox.quota_mb` at a real schedd through the real CLI: an upload over the owner's quota is
 * refused with a message naming the quota and what to do, the refused submit leaves no job
 * queued and no file spooled, another owner is not affected, outputs a pilot returns count, and
 * removing jobs frees the space at once (not at the next timed sweep).
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import type { FileChunk } from "../../src/schedd/messages.js";
import { codeOf, job, runCli, slot, startEnv, type CliResult, type TestEnv } from "./harness.js";

let env: TestEnv;
let work: string;
before(async () => {
  env = await startEnv({ extra: { sandbox: { quota_mb: 1 } } });
  work = join(env.dir, "submit");
  mkdirSync(work);
  // 600 KiB: one fits in the 1 MiB quota, two do not.
  writeFileSync(join(work, "data.bin"), Buffer.alloc(600 * 1024, 1));
  writeFileSync(join(work, "run.sh"), "#!/bin/sh\necho hi\n");
  writeFileSync(
    join(work, "job.sub"),
    "executable = run.sh\ntransfer_input_files = data.bin\nqueue\n",
  );
});
after(() => env.close());

const updraft = (args: string[]) => runCli(env, work, args);

const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

function chunk(name: string, data: Uint8Array, extra: Partial<FileChunk> = {}): FileChunk {
  return { name, offset: 0, data, last: true, sha256: sha(data), leaseId: "", jobId: "", ...extra };
}

/** Regular files under a directory, recursively. */
function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: "utf8" }).filter((f) =>
    statSync(join(dir, f)).isFile(),
  );
}

async function submit(): Promise<CliResult & { cluster?: string }> {
  const r = await updraft(["submit", "job.sub"]);
  return { ...r, cluster: /submitted to cluster (\d+)\./.exec(r.stdout)?.[1] };
}

test("an upload over the owner's quota is refused, leaves nothing, and rm frees the space", async () => {
  const first = await submit();
  assert.equal(first.code, 0, first.stderr);
  assert.ok(first.cluster);

  const refused = await updraft(["submit", "job.sub"]);
  assert.notEqual(refused.code, 0, refused.stdout);
  assert.match(refused.stderr, /spool quota of 1\.0 MB for user alice reached/);
  assert.match(refused.stderr, /Remove jobs you no longer need \(updraft rm\)/);
  assert.match(refused.stderr, /sandbox\.quota_mb/);
  const c = /no jobs were submitted \(cluster (\d+) removed\)/.exec(refused.stderr)?.[1];
  assert.ok(c, refused.stderr);
  const q = await updraft(["q", c, "-af", "ClusterId"]);
  assert.equal(q.stdout, "", "the refused cluster has no job left in the queue");
  assert.deepEqual(filesUnder(join(env.config.state_dir, "spool", c)), []);

  // Another owner has a quota of their own.
  const bob = env.client("bob");
  const bc = await bob.newCluster();
  await bob.submitJobs(bc, [job()], { holdForInput: true });
  await bob.putInput(chunk("data.bin", Buffer.alloc(600 * 1024, 2), { jobId: String(bc) }));

  // Removing the first cluster frees alice's space for the next submit straight away.
  const rm = await updraft(["rm", first.cluster]);
  assert.equal(rm.code, 0, rm.stderr);
  const again = await submit();
  assert.equal(again.code, 0, again.stderr);
  assert.deepEqual(filesUnder(join(env.config.state_dir, "spool", first.cluster)), []);
});

test("outputs a pilot returns are kept over the quota and count against the owner", async () => {
  const bob = env.client("bob");
  await bob.act("remove", { owner: "bob" });
  await env.client("alice").act("remove", { owner: "alice" });
  const pilot = env.client("pilot");
  const cluster = await bob.newCluster();
  await bob.submitJobs(cluster, [job({ TransferExecutable: "false" })]);
  const offer = await pilot.claimJob(slot());
  assert.equal(offer.jobId, `${cluster}.0`);
  const out = Buffer.alloc(1100 * 1024, 3); // over the whole quota, yet kept
  await pilot.putOutput(chunk("out.bin", out, { leaseId: offer.leaseId }));

  const next = await bob.newCluster();
  await bob.submitJobs(next, [job()], { holdForInput: true });
  await assert.rejects(
    bob.putInput(chunk("x.txt", Buffer.from("x"), { jobId: String(next) })),
    (e) => codeOf(e) === "resource-exhausted" && /spool quota/.test((e as Error).message),
  );
});
