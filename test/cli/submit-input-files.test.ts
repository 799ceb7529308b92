/** The input files `updraft submit` uploads for a job, read from the job's ad. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { inputFiles } from "../../src/cli/submit-command.js";

test("literal input attributes: the executable, stdin and transfer_input_files, by sandbox name", () => {
  const files = inputFiles({
    Iwd: '"/home/alice/run"',
    Cmd: '"bin/app"',
    In: '"/dev/null"',
    TransferInput: '"data/a.txt, /abs/b.txt,data/a.txt"',
    PreserveRelativePaths: "TRUE",
    ClusterId: "7",
    Requirements: "Target.Arch == MY.Arch",
  });
  assert.deepEqual(files, [
    { path: "/home/alice/run/bin/app", name: "app" },
    { path: "/home/alice/run/data/a.txt", name: "data/a.txt" },
    { path: "/abs/b.txt", name: "b.txt" },
  ]);
});

test("an input attribute given as an expression is evaluated against the whole ad", () => {
  const files = inputFiles({
    Base: '"/scratch"',
    Iwd: 'strcat(Base, "/job")',
    Cmd: '"run.sh"',
    TransferExecutable: "WantExe",
    WantExe: "true",
    TransferInput: 'strcat("in.", ClusterId)',
    ClusterId: "12",
  });
  assert.deepEqual(files, [
    { path: "/scratch/job/run.sh", name: "run.sh" },
    { path: "/scratch/job/in.12", name: "in.12" },
  ]);
});

test("transfer_executable = false leaves the executable out; a quoted quote stays literal", () => {
  const files = inputFiles({
    Iwd: '"/w"',
    Cmd: '"/bin/sh"',
    TransferExecutable: "false",
    TransferInput: '"say \\"hi\\".txt"',
  });
  assert.deepEqual(files, [{ path: '/w/say "hi".txt', name: 'say "hi".txt' }]);
});
