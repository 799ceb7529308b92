import assert from "node:assert/strict";
import { test } from "node:test";
import { jobOf } from "./helpers.js";

const job = (lines: string) => jobOf(`executable = run.sh\n${lines}\nqueue\n`);

/** command lines -> attribute -> expected expression text. */
const cases: [string, string, string | undefined][] = [
  ["input = in.txt", "In", '"in.txt"'],
  ["output = out.txt", "Out", '"out.txt"'],
  ["error = err.txt", "Err", '"err.txt"'],
  ["", "In", '"/dev/null"'],
  ["", "Out", '"/dev/null"'],
  ["log = job.log", "UserLog", '"/home/alice/work/job.log"'],
  ["", "UserLog", undefined],
  ["transfer_input_files = run.sh, sub/run.sh ,", "TransferInput", '"run.sh,sub/run.sh"'],
  ["transfer_output_files = out/", "TransferOutput", '"out/"'],
  ["should_transfer_files = yes", "ShouldTransferFiles", '"YES"'],
  ["", "ShouldTransferFiles", '"IF_NEEDED"'],
  ["when_to_transfer_output = on_exit_or_evict", "WhenToTransferOutput", '"ON_EXIT_OR_EVICT"'],
  ["", "WhenToTransferOutput", '"ON_EXIT"'],
  ["request_cpus = 8", "RequestCpus", "8"],
  ["request_gpus = 2", "RequestGPUs", "2"],
  ["rank = Memory", "Rank", "Memory"],
  ["", "Rank", "0.0"],
  ["priority = -5", "JobPrio", "-5"],
  ["", "JobPrio", "0"],
  ["universe = vanilla", "JobUniverse", "5"],
  ["universe = Vanilla", "JobUniverse", "5"],
  ["max_retries = 3", "JobMaxRetries", "3"],
  ["num_retries = 2", "JobMaxRetries", "2"],
  ["max_retries = 3", "OnExitRemove", "NumJobCompletions > JobMaxRetries || ExitCode == 0"],
  [
    "max_retries = 3\non_exit_remove = ExitSignal =!= 11",
    "OnExitRemove",
    "NumJobCompletions > JobMaxRetries || ExitCode == 0 || (ExitSignal isnt 11)",
  ],
  ["success_exit_code = 3", "JobMaxRetries", "2"],
  ["success_exit_code = 3", "OnExitRemove", "NumJobCompletions > JobMaxRetries || ExitCode == 3"],
  [
    "max_retries = 5\nretry_until = 17",
    "OnExitRemove",
    "NumJobCompletions > JobMaxRetries || ExitCode == 0 || ExitCode == 17",
  ],
  [
    "max_retries = 5\nretry_until = !member(ExitCode, {17, 34})",
    "OnExitRemove",
    "NumJobCompletions > JobMaxRetries || ExitCode == 0 || (!member(ExitCode,{ 17,34 }))",
  ],
  ["", "OnExitRemove", "true"],
  ["on_exit_remove = ExitCode == 0", "OnExitRemove", "ExitCode == 0"],
  ["on_exit_hold = ExitCode == 2", "OnExitHold", "ExitCode == 2"],
  ["", "OnExitHold", "false"],
  [
    "periodic_remove = JobStatus == 5 && time() - EnteredCurrentStatus > 3600",
    "PeriodicRemove",
    "JobStatus == 5 && time() - EnteredCurrentStatus > 3600",
  ],
  ["periodic_hold = NumJobStarts > 3", "PeriodicHold", "NumJobStarts > 3"],
  ["periodic_release = true", "PeriodicRelease", "true"],
  ["", "PeriodicRemove", "false"],
  ["notification = Complete", "JobNotification", "2"],
  ["notification = error", "JobNotification", "3"],
  ["", "JobNotification", "0"],
  ["initialdir = sub", "Iwd", '"/home/alice/work/sub"'],
  // condor_submit finds a transferred executable from its own directory, not initialdir.
  ["initialdir = sub", "Cmd", '"/home/alice/work/run.sh"'],
  ["initialdir = sub\nlog = j.log", "UserLog", '"/home/alice/work/sub/j.log"'],
  ["batch_name = nightly", "JobBatchName", '"nightly"'],
  ['+ProjectName = "cms.org.ucsd"', "ProjectName", '"cms.org.ucsd"'],
  ["MY.WantIOProxy = true", "WantIOProxy", "true"],
  ["+MaxWallTimeMins = 60 * 24", "MaxWallTimeMins", "60 * 24"],
  ["accounting_group = group_cms", "AcctGroup", '"group_cms"'],
  // Old ClassAd strings: a backslash is literal unless it escapes a quote.
  ['+WinPath = "C:\\temp\\new"', "WinPath", '"C:\\\\temp\\\\new"'],
  ['+Quote = "say \\"hi\\""', "Quote", '"say \\"hi\\""'],
  ["stream_output = true", "StreamOut", "true"],
  ["transfer_executable = false", "TransferExecutable", "false"],
  ["hold = true", "JobStatus", "5"],
  ["hold = true", "HoldReasonCode", "15"],
  ["hold = false", "JobStatus", "1"],
  ["", "HoldReason", undefined],
];

for (const [lines, attr, expected] of cases) {
  test(`${lines || "(nothing)"} -> ${attr} = ${expected}`, () => {
    assert.equal(job(lines).get(attr), expected);
  });
}

test("the fixed job attributes have HTCondor's names and values", () => {
  const j = job("");
  const want: Record<string, string> = {
    MyType: '"Job"',
    ClusterId: "42",
    ProcId: "0",
    Owner: '"alice"',
    QDate: "1700000000",
    EnteredCurrentStatus: "1700000000",
    JobUniverse: "5",
    JobStatus: "1",
    NumJobStarts: "0",
    Iwd: '"/home/alice/work"',
    Cmd: '"/home/alice/work/run.sh"',
  };
  for (const [name, text] of Object.entries(want)) assert.equal(j.get(name), text, name);
});

test("a custom attribute replaces the computed attribute of the same name", () => {
  const j = job("+JobPrio = 7");
  assert.equal(j.get("JobPrio"), "7");
  assert.equal(j.names().filter((n) => n.toLowerCase() === "jobprio").length, 1);
});

test("a later value of a command replaces an earlier one", () => {
  assert.equal(job("request_cpus = 2\nrequest_cpus = 4").get("RequestCpus"), "4");
});

test("user macros and commands can be used as macros, even defined later", () => {
  const j = job("output = $(name).$(request_cpus).out\nname = run\nrequest_cpus = 2");
  assert.equal(j.get("Out"), '"run.2.out"');
});

test("batch_name is overridden by the batchName option (-batch-name)", () => {
  const j = jobOf("executable = run.sh\nbatch_name = a\nqueue\n", undefined, { batchName: "b" });
  assert.equal(j.get("JobBatchName"), '"b"');
});

test("-append lines act as commands just before the queue statement", () => {
  const j = jobOf("executable = run.sh\nrequest_cpus = 1\nqueue\n", undefined, {
    appendLines: ["request_cpus = 3", "+Extra = 1"],
  });
  assert.equal(j.get("RequestCpus"), "3");
  assert.equal(j.get("Extra"), "1");
});

test("an appended queue statement queues a file that has none", () => {
  const j = jobOf("executable = run.sh\n", undefined, { appendLines: ["queue"] });
  assert.equal(j.procId, 0);
});

test("transfer_executable = false skips the check for the executable", () => {
  const j = job("").procId;
  assert.equal(j, 0);
  const remote = jobOf("executable = /cvmfs/x/run\ntransfer_executable = false\nqueue\n");
  assert.equal(remote.get("Cmd"), '"/cvmfs/x/run"');
});
