/**
 * Which sandbox files go back, on a real directory: created or changed top-level files when the
 * job lists none, a hold with code 12 naming a listed file the job did not make, and every way a
 * job might point the pilot outside its sandbox (links, `..`, absolute names) refused without
 * following it. Also the job spec's side: stdout never outside the sandbox, the staged
 * executable run rather than the submit host's path.
 */
import assert from "node:assert/strict";
import {
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { ClassAd } from "../../src/classad/index.js";
import { chooseOutputs, openOutput, snapshotSandbox } from "../../src/pilot/outputs.js";
import { jobSpecFromAd } from "../../src/pilot/runner/job-spec.js";
import { startJob } from "../../src/pilot/runner/run-job.js";

const root = mkdtempSync(join(tmpdir(), "updraft-outputs-"));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const sandbox = () => mkdtempSync(join(root, `job${++n}-`));
const ad = (attrs: Record<string, string>) => ClassAd.fromJSON(attrs);

test("with no transfer_output_files, created and changed top-level files come back", () => {
  const dir = sandbox();
  writeFileSync(join(dir, "input.dat"), "in");
  writeFileSync(join(dir, "rewritten.cfg"), "v1");
  writeFileSync(join(dir, "run.sh"), "#!/bin/sh\n");
  // Inputs staged a while ago; the job's writes below get new times.
  const past = new Date(Date.now() - 60_000);
  for (const f of ["input.dat", "rewritten.cfg", "run.sh"]) utimesSync(join(dir, f), past, past);
  const before = snapshotSandbox(dir);
  // What the job does: a new file, a changed input, a subdirectory, a link.
  writeFileSync(join(dir, "histos.root"), "root data");
  writeFileSync(join(dir, "rewritten.cfg"), "v2");
  mkdirSync(join(dir, "sub"));
  writeFileSync(join(dir, "sub", "deep.txt"), "not top level");
  symlinkSync("/etc/passwd", join(dir, "passwd"));
  mkdirSync(join(dir, "tmp"));
  writeFileSync(join(dir, "job.out"), "hello\n");
  const choice = chooseOutputs(ad({ Out: '"job.out"', Err: '"/dev/null"' }), dir, before);
  assert.deepEqual(choice, { ok: true, names: ["histos.root", "job.out", "rewritten.cfg"] });
});

test("the job's proxy and token stay behind even when the job rewrote them", () => {
  const dir = sandbox();
  writeFileSync(join(dir, "x509up_u1000"), "proxy v1");
  writeFileSync(join(dir, "bt_u1000"), "token v1");
  const past = new Date(Date.now() - 60_000);
  for (const f of ["x509up_u1000", "bt_u1000"]) utimesSync(join(dir, f), past, past);
  const before = snapshotSandbox(dir);
  writeFileSync(join(dir, "x509up_u1000"), "renewed proxy");
  writeFileSync(join(dir, "bt_u1000"), "renewed token");
  writeFileSync(join(dir, "result.txt"), "42");
  const job = ad({
    x509userproxy: '"/home/alice/x509up_u1000"',
    ScitokensFile: '"/home/alice/bt_u1000"',
  });
  assert.deepEqual(chooseOutputs(job, dir, before), { ok: true, names: ["result.txt"] });
});

test("a listed output the job did not make holds the job with code 12 naming the file", () => {
  const dir = sandbox();
  writeFileSync(join(dir, "a.txt"), "a");
  const choice = chooseOutputs(ad({ TransferOutput: '"a.txt, histos.root"' }), dir, new Map());
  assert.equal(choice.ok, false);
  assert.ok(!choice.ok);
  assert.equal(choice.hold.code, 12);
  assert.equal(choice.hold.subcode, 2);
  assert.match(choice.hold.reason, /histos\.root: \(errno 2\) No such file or directory/);
  // The files that are there still go back with the hold.
  assert.deepEqual(choice.names, ["a.txt"]);
});

test("a listed directory comes back file by file; links inside it are left out", () => {
  const dir = sandbox();
  mkdirSync(join(dir, "results", "plots"), { recursive: true });
  writeFileSync(join(dir, "results", "a.txt"), "a");
  writeFileSync(join(dir, "results", "plots", "b.png"), "b");
  symlinkSync("/etc/passwd", join(dir, "results", "passwd"));
  const choice = chooseOutputs(ad({ TransferOutput: '"results"' }), dir, new Map());
  assert.deepEqual(choice, { ok: true, names: ["results/a.txt", "results/plots/b.png"] });
});

for (const [what, name, setup] of [
  [
    "a link to a file outside",
    "secret",
    (d: string) => symlinkSync("/etc/passwd", join(d, "secret")),
  ],
  [
    "a file under a linked directory",
    "etc/passwd",
    (d: string) => symlinkSync("/etc", join(d, "etc")),
  ],
  [
    "a '..' name",
    "../outside.txt",
    (d: string) => writeFileSync(join(d, "..", "outside.txt"), "x"),
  ],
  ["an absolute name", "/etc/passwd", () => {}],
] as const) {
  test(`attack: transfer_output_files naming ${what} holds the job, nothing read`, () => {
    const dir = sandbox();
    setup(dir);
    const choice = chooseOutputs(ad({ TransferOutput: `"${name}"` }), dir, new Map());
    assert.ok(!choice.ok, `${name} refused`);
    assert.equal(choice.hold.code, 12);
    assert.ok(choice.hold.reason.includes(name.replace(/^\.\.\//, "")), choice.hold.reason);
    assert.deepEqual(choice.names, []);
  });
}

test("attack: an output swapped for a link after the check is not opened", () => {
  const dir = sandbox();
  symlinkSync("/etc/passwd", join(dir, "late"));
  assert.throws(() => openOutput(dir, "late"), /ELOOP/);
});

test("attack: stdout or stderr outside the sandbox is refused with hold code 7", () => {
  for (const out of ["../../escape.txt", "/tmp/escape.txt", "logs/../../escape.txt"]) {
    for (const attr of ["Out", "Err"]) {
      const r = jobSpecFromAd("1.0", ad({ Cmd: '"/bin/true"', [attr]: `"${out}"` }), sandbox());
      assert.ok(!r.ok, `${attr} = ${out} refused`);
      assert.equal(r.holdCode, 7);
      assert.match(r.message, /outside/);
    }
  }
  const quiet = jobSpecFromAd("1.0", ad({ Cmd: '"/bin/true"', Out: '"/dev/null"' }), sandbox());
  assert.ok(quiet.ok && quiet.spec.stdout === "/dev/null");
});

test("attack: a stdout name that is a link is not written through", async () => {
  const dir = sandbox();
  const target = join(root, `victim-${n}.txt`);
  writeFileSync(target, "untouched");
  symlinkSync(target, join(dir, "job.out"));
  const r = jobSpecFromAd(
    "1.0",
    ad({ Cmd: '"/bin/echo"', TransferExecutable: "false", Out: '"job.out"' }),
    dir,
  );
  assert.ok(r.ok);
  const outcome = await startJob(r.spec, { pollMs: 50 }).done;
  assert.equal(outcome.startFailure?.code, 7);
  assert.equal(readFileSync(target, "utf8"), "untouched");
});

test("the pilot runs the staged executable, never the submit host's path", () => {
  const dir = sandbox();
  const staged = jobSpecFromAd("1.0", ad({ Cmd: '"/home/alice/analysis/run.sh"' }), dir);
  assert.ok(staged.ok);
  assert.equal(staged.spec.executable, join(dir, "run.sh"));
  const onNode = jobSpecFromAd(
    "1.0",
    ad({ Cmd: '"/usr/bin/env"', TransferExecutable: "false" }),
    dir,
  );
  assert.ok(onNode.ok);
  assert.equal(onNode.spec.executable, "/usr/bin/env");
  // Standard input is the staged copy too, not a path on the worker node.
  const input = jobSpecFromAd("1.0", ad({ Cmd: '"/bin/cat"', In: '"/etc/shadow"' }), dir);
  assert.ok(input.ok);
  assert.equal(input.spec.stdin, join(dir, "shadow"));
});
