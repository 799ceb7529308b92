import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { ClassAd } from "../../src/classad/index.js";
import { createResourceLedger } from "../../src/pilot/ledger.js";
import { jobSpecFromAd, requestOf } from "../../src/pilot/runner/job-spec.js";
import { startJob } from "../../src/pilot/runner/run-job.js";

const root = mkdtempSync(join(tmpdir(), "updraft-runner-"));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;

function sandbox(): string {
  n++;
  return mkdtempSync(join(root, "job"));
}

/** Programs already on the node (`transfer_executable = false`) unless the ad says otherwise. */
function spec(ad: string, opts: Parameters<typeof jobSpecFromAd>[3] = {}) {
  const dir = sandbox();
  const text = ad.includes("TransferExecutable")
    ? ad
    : ad.replace(/^\[/, "[ TransferExecutable = false;");
  const r = jobSpecFromAd(`1.${n}`, ClassAd.parse(text), dir, opts);
  assert.ok(r.ok);
  return r.spec;
}

test("runs a job with V2 arguments, environment, stdin and scratch variables", async () => {
  const s = spec(
    `[ Cmd = "/bin/sh"; Arguments = "-c 'read l; echo \\"$l|$1|$GREETING|$_CONDOR_SCRATCH_DIR|$TMPDIR|$X509_USER_PROXY\\"; echo err >&2; exit 3' x 'a b'"; ` +
      `Environment = "'GREETING=hello there'"; In = "in.txt"; Out = "out.txt"; Err = "err.txt" ]`,
    { credentialFile: "/creds/job.pem" },
  );
  writeFileSync(join(s.sandboxDir, "in.txt"), "line1\n");
  const out = await startJob(s, { pollMs: 50 }).done;
  assert.equal(out.exitCode, 3);
  assert.equal(out.signal, null);
  const d = s.sandboxDir;
  assert.equal(
    readFileSync(join(d, "out.txt"), "utf8"),
    `line1|a b|hello there|${d}|${d}/tmp|/creds/job.pem\n`,
  );
  assert.equal(readFileSync(join(d, "err.txt"), "utf8"), "err\n");
  assert.ok(out.wallS > 0 && out.wallS < 5);
});

test("request defaults, the job's walltime and the pilot's deadline", () => {
  assert.deepEqual(requestOf(ClassAd.parse("[ RequestCpus = 2 ]")), {
    cpus: 2,
    memoryMb: 128,
    diskKb: 0,
    gpus: 0,
  });
  assert.equal(spec('[ Cmd = "/bin/true"; MaxWallTimeMins = 10 ]').walltimeS, 600);
  const capped = spec('[ Cmd = "/bin/true"; MaxWallTimeMins = 10 ]', { remainingLifetimeS: 60 });
  assert.deepEqual([capped.walltimeS, capped.pilotDeadlineS], [600, 60]);
  assert.equal(jobSpecFromAd("x", ClassAd.parse('[ Arguments = "\'" ]'), root).ok, false);
  const quiet = spec('[ Cmd = "/bin/true"; Out = "/dev/null" ]');
  assert.deepEqual(
    [quiet.stdout, quiet.stderr, quiet.stdin],
    ["/dev/null", join(quiet.sandboxDir, "_condor_stderr"), undefined],
  );
});

test("a job's zero or negative requests take one CPU and nothing else, and cannot grow the slot", () => {
  const hostile = ClassAd.parse(
    "[ RequestCpus = -8; RequestMemory = -100000; RequestDisk = -1; RequestGPUs = -2 ]",
  );
  assert.deepEqual(requestOf(hostile), { cpus: 1, memoryMb: 0, diskKb: 0, gpus: 0 });
  assert.equal(requestOf(ClassAd.parse("[ RequestCpus = 0 ]")).cpus, 1);
  const ledger = createResourceLedger({ cpus: 1, memoryMb: 1000, diskKb: 1000, gpus: 0 });
  assert.equal(ledger.reserve("1.0", requestOf(hostile)).ok, true);
  const next = ledger.reserve("2.0", requestOf(ClassAd.parse("[ RequestCpus = 1 ]")));
  assert.deepEqual(next, { ok: false, reason: "insufficient", short: ["cpus"] });
  assert.deepEqual(ledger.remaining(), { cpus: 0, memoryMb: 1000, diskKb: 1000, gpus: 0 });
});

test("a sleeper is killed at its walltime with a hold reason", async () => {
  const s = spec('[ Cmd = "/bin/sleep"; Arguments = "30"; MaxWallTime = 1 ]');
  const out = await startJob(s, { pollMs: 100, killGraceMs: 500 }).done;
  assert.equal(out.signal, "SIGTERM");
  assert.equal(out.killed?.kind, "walltime");
  assert.match(out.killed?.holdReason ?? "", /exceeded allowed execute duration of 0\+00:00:01/);
  assert.ok(out.wallS >= 0.9 && out.wallS < 5, `wall ${out.wallS}`);
});

test("at the pilot's deadline a job is stopped as a pilot stop, not held", async () => {
  const s = spec('[ Cmd = "/bin/sleep"; Arguments = "30"; MaxWallTime = 60 ]', {
    remainingLifetimeS: 0.5,
  });
  const out = await startJob(s, { pollMs: 100, killGraceMs: 500 }).done;
  assert.deepEqual(out.killed, { kind: "pilot-stop" });
});

test("a job that ignores SIGTERM is killed after the grace period", async () => {
  const s = spec(
    '[ Cmd = "/bin/sh"; Arguments = "-c \'trap \\"\\" TERM; sleep 30 & wait; sleep 30\'" ]',
  );
  const job = startJob(s, { pollMs: 100, killGraceMs: 300 });
  setTimeout(() => job.kill("removed"), 200);
  const out = await job.done;
  assert.equal(out.signal, "SIGKILL");
  assert.equal(out.killed?.kind, "removed");
});

test("a memory hog over its request is killed with a memory hold reason", async () => {
  // Node itself is the hog: it grows a buffer well past the 64 MB request and holds it.
  const s = spec(
    `[ Cmd = "${process.execPath}"; ` +
      `Arguments = "-e 'const a=[]; for(let i=0;i<40;i++) a.push(Buffer.alloc(8<<20, 1)); setTimeout(()=>{}, 30000)'"; ` +
      "RequestMemory = 64 ]",
  );
  const out = await startJob(s, { pollMs: 50 }).done;
  assert.equal(out.killed?.kind, "memory");
  assert.equal(out.signal, "SIGKILL");
  assert.match(out.killed?.holdReason ?? "", /over memory limit of 64 megabytes/);
  assert.ok(out.peakRssMb > 64, `peak ${out.peakRssMb}`);
});

test("CPU time of the tree is sampled", async () => {
  const s = spec(
    `[ Cmd = "${process.execPath}"; Arguments = "-e 'while(process.cpuUsage().user<700000){}'" ]`,
  );
  const out = await startJob(s, { pollMs: 50 }).done;
  assert.equal(out.exitCode, 0);
  assert.ok(out.userS + out.sysS >= 0.3, `cpu ${out.userS}+${out.sysS}`);
});

test("a missing executable is an outcome, not an exception", async () => {
  const s = spec('[ Cmd = "does-not-exist" ]');
  const out = await startJob(s).done;
  assert.match(out.startError ?? "", /ENOENT/);
  assert.deepEqual(out.startFailure, { code: 6, subcode: 2 });
});

test("output under a sub-folder is written there; an output that cannot be opened is code 7", async () => {
  const ok = spec('[ Cmd = "/bin/echo"; Arguments = "hi"; Out = "out/deep/job.out" ]');
  assert.equal((await startJob(ok).done).exitCode, 0);
  assert.equal(readFileSync(join(ok.sandboxDir, "out/deep/job.out"), "utf8"), "hi\n");
  // A file where the folder should be (EEXIST or ENOTDIR, whoever runs the test).
  const bad = spec('[ Cmd = "/bin/echo"; Out = "blocker/job.out" ]');
  writeFileSync(join(bad.sandboxDir, "blocker"), "");
  const out = await startJob(bad).done;
  assert.equal(out.startFailure?.code, 7);
  assert.ok(
    [17, 20].includes(out.startFailure?.subcode ?? 0),
    `errno ${out.startFailure?.subcode}`,
  );
});

test("a missing standard input is code 8", async () => {
  const s = spec('[ Cmd = "/bin/cat"; In = "missing.txt" ]');
  const out = await startJob(s).done;
  assert.deepEqual(out.startFailure, { code: 8, subcode: 2 });
});
