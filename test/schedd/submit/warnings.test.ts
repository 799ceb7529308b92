/**
 * What condor_submit accepts with a warning is accepted here with a warning naming FILE:LINE:
 * lines no command used (typos), commands Updraft does not act on (their HTCondor attribute
 * still written), and job-attribute spellings of commands (`WhenToTransferOutput = ON_EXIT`).
 * Only real errors stop a submit.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { CWD, DEFAULT_FILES, compile, jobOf, jobsOf } from "./helpers.js";

const EXE = "executable = run.sh\n";

function warningsOf(text: string): { line: number; message: string }[] {
  const r = compile(text);
  if (!r.ok) assert.fail(`unexpected errors: ${JSON.stringify(r.errors)}`);
  return r.warnings.map(({ line, message }) => ({ line, message }));
}

test("an unused line is a warning with condor_submit's words and a spelling hint", () => {
  assert.deepEqual(warningsOf(`${EXE}requst_memory = 2G\nfrobnicate = 1\nqueue\n`), [
    {
      line: 2,
      message:
        "the line 'requst_memory = 2G' was unused by updraft submit. Is it a typo? (did you mean 'request_memory'?)",
    },
    { line: 3, message: "the line 'frobnicate = 1' was unused by updraft submit. Is it a typo?" },
  ]);
  // The typo is not applied: the default request stands.
  assert.equal(jobOf(`${EXE}requst_memory = 2G\nqueue\n`).get("RequestMemory"), "1024");
});

test("accepted commands write HTCondor's attribute and warn that Updraft does not act on them", () => {
  const text = [
    EXE.trim(),
    "notify_user = alice@example.org",
    "want_graceful_removal = true",
    "job_lease_duration = 2400",
    "kill_sig = SIGINT",
    "queue",
    "",
  ].join("\n");
  const job = jobOf(text);
  assert.equal(job.get("NotifyUser"), '"alice@example.org"');
  assert.equal(job.get("WantGracefulRemoval"), "true");
  assert.equal(job.get("JobLeaseDuration"), "2400");
  assert.equal(job.get("KillSig"), '"SIGINT"');
  const warnings = warningsOf(text);
  assert.deepEqual(
    warnings.map((w) => w.line),
    [2, 3, 4, 5],
  );
  assert.match(warnings[0]!.message, /^'notify_user' is accepted but has no effect: .*no mail/);
  assert.match(warnings[3]!.message, /^'kill_sig' is accepted but has no effect: .*SIGTERM/);
});

test("commands Updraft does not act on say so, where they used to set their attribute in silence", () => {
  const text = [
    EXE.trim(),
    "accounting_group = group_cms.alice",
    "concurrency_limits = DB_LIMIT",
    "stream_output = true",
    "job_max_vacate_time = 300",
    "checkpoint_exit_code = 85",
    "next_job_start_delay = 5",
    "queue",
    "",
  ].join("\n");
  const job = jobOf(text);
  assert.equal(job.get("AcctGroup"), '"group_cms.alice"');
  assert.equal(job.get("ConcurrencyLimits"), '"DB_LIMIT"');
  assert.equal(job.get("StreamOut"), "true");
  assert.equal(job.get("CheckpointExitCode"), "85");
  const warnings = warningsOf(text);
  assert.deepEqual(
    warnings.map((w) => w.line),
    [2, 3, 4, 5, 6, 7],
  );
  for (const w of warnings) assert.match(w.message, /^'\w+' is accepted but has no effect: /);
  assert.match(warnings[4]!.message, /not restarted from a checkpoint/);
});

test("container_image and docker_image are refused: Updraft runs no container universe", () => {
  for (const key of ["container_image", "docker_image"]) {
    const r = compile(`${EXE}${key} = /cvmfs/unpacked.cern.ch/el9\nqueue\n`);
    assert.ok(!r.ok, key);
    assert.match(r.errors[0]!.message, new RegExp(`^${key} asks for a container`));
  }
});

test("max_materialize and max_idle set HTCondor's materialization limits, with no warning", () => {
  const text = `${EXE}max_materialize = 10\nmax_idle = 4\nqueue\n`;
  const job = jobOf(text);
  assert.equal(job.get("JobMaterializeLimit"), "10");
  assert.equal(job.get("JobMaterializeMaxIdle"), "4");
  assert.deepEqual(warningsOf(text), []);
  const r = compile(`${EXE}max_idle = 0\nqueue\n`);
  assert.ok(!r.ok);
  assert.match(r.errors[0]!.message, /max_idle must be a whole number of jobs above 0, not '0'/);
});

test("preserve_relative_paths sets PreserveRelativePaths with no warning", () => {
  const text = `${EXE}preserve_relative_paths = true\nqueue\n`;
  assert.equal(jobOf(text).get("PreserveRelativePaths"), "true");
  assert.deepEqual(warningsOf(text), []);
  const r = compile(`${EXE}preserve_relative_paths = maybe\nqueue\n`);
  assert.ok(!r.ok);
  assert.match(r.errors[0]!.message, /preserve_relative_paths must be true or false/);
});

test("a bad value for an accepted command is still an error", () => {
  const r = compile(`${EXE}nice_user = sometimes\nqueue\n`);
  assert.ok(!r.ok);
  assert.match(r.errors[0]!.message, /nice_user must be true or false/);
});

test("job attribute spellings are the commands they name, with no warning", () => {
  const text = [
    "Cmd = run.sh",
    "WhenToTransferOutput = ON_EXIT_OR_EVICT",
    "RequestMemory = 2048",
    "RequestGPUs = 1",
    "TransferInput = a.txt",
    "NotifyUser = bob@example.org",
    "output = mem_$(RequestMemory).out",
    "queue",
    "",
  ].join("\n");
  const job = jobOf(text, { ...DEFAULT_FILES, [`${CWD}/a.txt`]: "" });
  assert.equal(job.get("Cmd"), '"/home/alice/work/run.sh"');
  assert.equal(job.get("WhenToTransferOutput"), '"ON_EXIT_OR_EVICT"');
  assert.equal(job.get("RequestMemory"), "2048");
  assert.equal(job.get("RequestGPUs"), "1");
  assert.equal(job.get("TransferInput"), '"a.txt"');
  // The macro of the spelling used still expands.
  assert.equal(job.get("Out"), '"mem_2048.out"');
  const r = compile(text, { ...DEFAULT_FILES, [`${CWD}/a.txt`]: "" });
  assert.ok(r.ok);
  assert.deepEqual(
    r.warnings.map((w) => w.line),
    [6],
    "only notify_user's no-effect warning",
  );
});

test("RequestGPUs is spelled as HTCondor spells it, in the attribute and in Requirements", () => {
  const job = jobOf(`${EXE}request_gpus = 2\nqueue\n`);
  assert.equal(job.get("RequestGPUs"), "2");
  assert.ok([...job].some(([name]) => name === "RequestGPUs"));
  assert.match(job.get("Requirements")!, /\(TARGET\.Gpus >= RequestGPUs\)/);
});

test("a relative executable left on the worker node keeps its name as written", () => {
  const job = jobOf("executable = bin/analyze\ntransfer_executable = false\nqueue\n");
  assert.equal(job.get("Cmd"), '"bin/analyze"');
});

test("two executable + queue blocks stay one cluster with ProcIds counting on, as HTCondor 8.3+", () => {
  // condor_submit stopped starting a new cluster when the executable changes (NewExecutable is
  // disabled since 8.3): procs count up within the one cluster, each with its own Cmd.
  const jobs = jobsOf("executable = run.sh\nqueue 2\nexecutable = sub/run.sh\nqueue 1\n");
  assert.deepEqual(
    jobs.map((j) => [j.get("ClusterId"), j.get("ProcId"), j.get("Cmd")]),
    [
      ["42", "0", '"/home/alice/work/run.sh"'],
      ["42", "1", '"/home/alice/work/run.sh"'],
      ["42", "2", '"/home/alice/work/sub/run.sh"'],
    ],
  );
});
