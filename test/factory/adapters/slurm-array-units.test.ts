/** The `slurm` adapter's job arrays, pure parts: names, task lists, parsers, the array script. */
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import {
  arraySbatchArgs,
  arrayScript,
  batchScript,
  withTasks,
} from "../../../src/factory/adapters/slurm/batch-script.js";
import {
  arrayKey,
  arrayRuns,
  compressTasks,
  expandTasks,
  pilotOfJob,
  taskHandle,
} from "../../../src/factory/adapters/slurm/job-names.js";
import { purgeScript, squeueJsonScript } from "../../../src/factory/adapters/slurm/scripts.js";
import { parseSlurmSettings } from "../../../src/factory/adapters/slurm/settings.js";
import {
  expandArray,
  parseJobcomp,
  parseSacct,
  parseSqueueJson,
  parseSqueueText,
} from "../../../src/factory/adapters/slurm/states.js";

const resources = { cpus: 1, memoryMb: 100, walltimeS: 60 };
const spec = (intentId: number, r = resources) => ({
  intentId,
  command: "/bin/true",
  args: [],
  env: {},
  resources: r,
});

test("a job array's name and task id say each task's handle and intent id", () => {
  const key = arrayKey(40, "0a0b0c0d");
  assert.equal(key, "40-0a0b0c0d-array");
  assert.equal(taskHandle(key, 3), "43-0a0b0c0d");
  assert.deepEqual(pilotOfJob(key, "123_3"), {
    handle: "43-0a0b0c0d",
    intentId: 43,
    array: { key, task: 3 },
  });
  assert.deepEqual(pilotOfJob("7-0a0b0c0d", "99"), { handle: "7-0a0b0c0d", intentId: 7 });
  // An array's name without a task id, or a name of someone else's, is no pilot.
  assert.equal(pilotOfJob(key, "123"), undefined);
  assert.equal(pilotOfJob("wrap", "5"), undefined);
  assert.throws(() => taskHandle("7-0a0b0c0d", 1), /not a job array key/);
});

test("task lists as Slurm prints them expand to ids; ids compress to --array's value", () => {
  assert.deepEqual(expandTasks("1-4"), [1, 2, 3, 4]);
  assert.deepEqual(expandTasks("1-2,4-6%3"), [1, 2, 4, 5, 6]);
  assert.deepEqual(expandTasks("0-8:4"), [0, 4, 8]);
  assert.deepEqual(expandTasks("7"), [7]);
  assert.throws(() => expandTasks("1-x"), /'1-x' is not a Slurm array task list/);
  assert.throws(() => expandTasks("5-1"), /not a Slurm array task list/);
  assert.throws(() => expandTasks("0-99999999"), /not a Slurm array task list/);
  assert.equal(compressTasks([0, 1, 2, 3]), "0-3");
  assert.equal(compressTasks([5, 1, 3, 4]), "1,3-5");
  assert.equal(compressTasks([2]), "2");
});

test("a batch becomes arrays of consecutive intent ids with the same resources, within the size", () => {
  const ids = (runs: { intentId: number }[][]) => runs.map((r) => r.map((s) => s.intentId));
  assert.deepEqual(ids(arrayRuns([spec(1), spec(2), spec(3)], 100)), [[1, 2, 3]]);
  assert.deepEqual(ids(arrayRuns([spec(1), spec(2), spec(3), spec(4), spec(5)], 2)), [
    [1, 2],
    [3, 4],
    [5],
  ]);
  assert.deepEqual(ids(arrayRuns([spec(1), spec(2), spec(5), spec(6)], 100)), [
    [1, 2],
    [5, 6],
  ]);
  const big = { ...resources, cpus: 4 };
  assert.deepEqual(ids(arrayRuns([spec(1), spec(2), spec(3, big), spec(4, big)], 100)), [
    [1, 2],
    [3, 4],
  ]);
  assert.deepEqual(ids(arrayRuns([spec(1), spec(2)], 1)), [[1], [2]]);
});

test("squeue --json as Slurm 22.05 prints array tasks and an array's pending record", () => {
  // Fields as the real 22.05 answers (array_task_id null on the pending record).
  const text = JSON.stringify({
    jobs: [
      {
        job_id: 3,
        array_job_id: 2,
        array_task_id: 0,
        array_task_string: "",
        name: "a",
        job_state: "RUNNING",
        state_reason: "None",
        exit_code: 0,
        user_id: 0,
      },
      {
        job_id: 2,
        array_job_id: 2,
        array_task_id: null,
        array_task_string: "1-2,4%3",
        name: "a",
        job_state: "PENDING",
        state_reason: "Resources",
        exit_code: 0,
        user_id: 0,
      },
      {
        job_id: 9,
        array_job_id: 0,
        array_task_id: null,
        array_task_string: "",
        name: "b",
        job_state: "COMPLETED",
        state_reason: "None",
        exit_code: 0,
        user_id: 65534,
      },
    ],
  });
  const jobs = parseSqueueJson(text);
  assert.deepEqual(
    jobs.map((j) => [j.jobId, j.pendingTasks, j.userId]),
    [
      ["2_0", undefined, 0],
      ["2", "1-2,4%3", 0],
      ["9", undefined, 65534],
    ],
  );
  assert.deepEqual(
    expandArray(jobs[1]!).map((j) => [j.jobId, j.state, j.reason, j.pendingTasks]),
    [
      ["2_1", "PENDING", "Resources", undefined],
      ["2_2", "PENDING", "Resources", undefined],
      ["2_4", "PENDING", "Resources", undefined],
    ],
  );
  assert.deepEqual(expandArray(jobs[0]!), [jobs[0]]);
});

test("squeue's text format: array tasks, an array's pending record, het job parts", () => {
  const jobs = parseSqueueText(
    "2_0|RUNNING|None|a\n2_[1-2,4%3]|PENDING|Resources|a\n8+0|RUNNING|None|h\n",
  );
  assert.deepEqual(
    jobs.map((j) => [j.jobId, j.pendingTasks]),
    [
      ["2_0", undefined],
      ["2", "1-2,4%3"],
      ["8+0", undefined],
    ],
  );
  assert.throws(() => parseSqueueText("2_[a]|PENDING|None|a\n"), /squeue line 1/);
});

test("jobcomp and sacct name array tasks as <array job id>_<task id>", () => {
  const jobcomp = [
    "JobId=3 UserId=root(0) GroupId=root(0) Name=ours JobState=COMPLETED Partition=debug ArrayJobId=2 ArrayTaskId=0 DerivedExitCode=0:0 ExitCode=0:0 ",
    "JobId=2 UserId=root(0) GroupId=root(0) Name=ours JobState=FAILED Partition=debug ArrayJobId=2 ArrayTaskId=4 DerivedExitCode=0:0 ExitCode=4:0 ",
    "JobId=5 UserId=root(0) GroupId=root(0) Name=ours JobState=FAILED Partition=debug DerivedExitCode=0:0 ExitCode=2:0 ",
    "JobId=6 UserId=root(0) GroupId=root(0) Name=theirs JobState=COMPLETED Partition=debug ExitCode=0:0 ",
  ].join("\n");
  const m = parseJobcomp(jobcomp, (name) => name === "ours");
  assert.deepEqual(
    [...m].map(([id, j]) => [id, j.jobId, j.state, j.exitCode]),
    [
      ["2_0", "2_0", "COMPLETED", 0],
      ["2_4", "2_4", "FAILED", 4],
      ["5", "5", "FAILED", 2],
    ],
  );
  const sacct = parseSacct("2_0|COMPLETED|0:0|ours\n2_[5-9]|PENDING|0:0|ours\n7|FAILED|3:0|x\n");
  assert.deepEqual([...sacct.keys()], ["2_0", "7"]);
});

test("an array's sbatch arguments give each task its own output folder", () => {
  const args = arraySbatchArgs(parseSlurmSettings({}), spec(1), "job", "/p/1-0a0b0c0d-array");
  assert.ok(args.includes("--output=/p/1-0a0b0c0d-array/%a/stdout"), args.join(" "));
  assert.ok(args.includes("--error=/p/1-0a0b0c0d-array/%a/stderr"), args.join(" "));
  assert.ok(args.includes("--chdir=/p/1-0a0b0c0d-array"), args.join(" "));
  const full = withTasks(args, "0-3");
  assert.equal(full.at(-2), "--array=0-3");
  assert.equal(full.at(-1), "/p/1-0a0b0c0d-array/array.sh");
});

test("the array script runs the task's own pilot script and nothing for a bad task id", () => {
  const dir = mkdtempSync(join(tmpdir(), "updraft slurm array '$x'-"));
  try {
    for (const [task, word] of [
      [0, "zero 'q'"],
      [1, "one $HOME"],
    ] as const) {
      const taskDir = join(dir, String(task));
      mkdirSync(taskDir);
      const script = batchScript(
        { ...spec(task), command: "/usr/bin/printf", args: ["%s|%s", word], env: { W: word } },
        { dir: taskDir, command: "/usr/bin/printf" },
      );
      writeFileSync(join(taskDir, "pilot.sh"), script, { mode: 0o700 });
    }
    writeFileSync(join(dir, "array.sh"), arrayScript(dir), { mode: 0o700 });
    const run = (id: string | undefined) =>
      spawnSync("/bin/sh", [join(dir, "array.sh")], {
        encoding: "utf8",
        env: id === undefined ? {} : { SLURM_ARRAY_TASK_ID: id },
      });
    assert.equal(run("1").stdout, "one $HOME|");
    assert.equal(run("0").stdout, "zero 'q'|");
    for (const bad of [undefined, "", "0;touch x", "../0", "-1"]) {
      const r = run(bad);
      assert.equal(r.status, 1, `task id ${JSON.stringify(bad)}`);
      assert.match(r.stderr, /not a task of a job array/);
    }
    // The exit status is the pilot's own, kept in its folder.
    assert.equal(execFileSync("cat", [join(dir, "1", "exit_code")], { encoding: "utf8" }), "0\n");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("purging a job array's last task removes the array's folder, not before", () => {
  const dir = mkdtempSync(join(tmpdir(), "updraft-slurm-purge-"));
  try {
    const arr = join(dir, "1-0a0b0c0d-array");
    for (const t of ["0", "1"]) mkdirSync(join(arr, t), { recursive: true });
    writeFileSync(join(arr, "array.sh"), "");
    execFileSync("/bin/sh", ["-c", purgeScript([join(arr, "0")], [arr])]);
    assert.deepEqual(execFileSync("ls", [arr], { encoding: "utf8" }).split("\n"), [
      "1",
      "array.sh",
      "",
    ]);
    execFileSync("/bin/sh", ["-c", purgeScript([join(arr, "1")], [arr])]);
    assert.equal(execFileSync("ls", [dir], { encoding: "utf8" }), "");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("squeue is asked for the submitting user's jobs, whose uid comes first", () => {
  const script = squeueJsonScript(parseSlurmSettings({}));
  assert.match(script, /--user="\$u"/);
  const out = execFileSync("/bin/sh", ["-c", script.replace(/exec squeue.*/, "")], {
    encoding: "utf8",
  });
  assert.equal(out, `@@USER ${process.getuid!()}\n`);
});
