/** The `slurm` adapter's pure parts: state mapping, parsers, the batch script, settings. */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { parse as parseYaml } from "yaml";
import type { ZodError } from "zod";
import {
  batchScript,
  parseSbatchId,
  refusalIsTransient,
  sbatchArgs,
} from "../../../src/factory/adapters/slurm/batch-script.js";
import { controlPath, createLocalHost } from "../../../src/factory/adapters/slurm/host.js";
import { expandTasks } from "../../../src/factory/adapters/slurm/job-names.js";
import { hasErrorCode, type ErrorCode } from "../../../src/common/errors.js";
import {
  parseSlurmSettings,
  slurmSettingsSchema,
  sshSettingsSchema,
} from "../../../src/factory/adapters/slurm/settings.js";
import { factoryConfigSchema } from "../../../src/factory/config.js";
import {
  decodeWaitStatus,
  mapJob,
  parseJobcomp,
  parseSqueueJson,
  parseSqueueText,
} from "../../../src/factory/adapters/slurm/states.js";

const job = (state: string, reason = "None", exitCode?: number) => ({
  jobId: "7",
  name: "n",
  state,
  reason,
  exitCode,
});

test("Slurm states map to adapter states", () => {
  assert.deepEqual(mapJob("h", job("PENDING", "Priority")), { handle: "h", state: "Idle" });
  assert.equal(mapJob("h", job("RUNNING")).state, "Running");
  assert.equal(mapJob("h", job("COMPLETING")).state, "Running");
  assert.deepEqual(mapJob("h", job("COMPLETED", "None", 0)), {
    handle: "h",
    state: "Finished",
    exitCode: 0,
  });
  assert.deepEqual(mapJob("h", job("FAILED", "NonZeroExitCode", 3)), {
    handle: "h",
    state: "Finished",
    exitCode: 3,
  });
  assert.equal(mapJob("h", job("CANCELLED")).state, "Removed");
  assert.equal(mapJob("h", job("CANCELLED by 0")).state, "Removed");
  const user = mapJob("h", job("PENDING", "JobHeldUser"));
  assert.equal(user.state, "Held");
  assert.equal(user.holdRecoverable, true);
  assert.equal(mapJob("h", job("PENDING", "JobHeldAdmin")).holdRecoverable, false);
  const never = mapJob("h", job("PENDING", "PartitionConfig"));
  assert.equal(never.state, "Held");
  assert.equal(never.holdRecoverable, false);
  assert.match(never.holdReason!, /PartitionConfig/);
});

test("failure states never read as success, and sh's 126/127 is a hold", () => {
  for (const s of ["TIMEOUT", "NODE_FAIL", "OUT_OF_MEMORY", "BOOT_FAIL", "PREEMPTED"]) {
    const m = mapJob("h", job(s, "None", 0));
    assert.equal(m.state, "Finished", s);
    assert.notEqual(m.exitCode, 0, s);
  }
  assert.equal(mapJob("h", job("TIMEOUT", "TimeLimit", 143)).exitCode, 143);
  const launch = mapJob("h", job("FAILED", "JobLaunchFailure", 181));
  assert.equal(launch.state, "Held");
  assert.equal(launch.holdRecoverable, false);
  const notExec = mapJob("h", job("FAILED", "NonZeroExitCode", 127));
  assert.equal(notExec.state, "Held");
  assert.equal(notExec.holdRecoverable, false);
  assert.equal(mapJob("h", job("SOMETHING_NEW")).state, "Unknown");
});

test("wait statuses decode the shell's way", () => {
  assert.equal(decodeWaitStatus(0), 0);
  assert.equal(decodeWaitStatus(768), 3);
  assert.equal(decodeWaitStatus(9), 137);
  assert.equal(decodeWaitStatus(15), 143);
});

test("squeue --json as Slurm 22.05 prints it", () => {
  const text = JSON.stringify({
    meta: {},
    errors: [],
    jobs: [
      {
        job_id: 10,
        name: "updraft-abc-1-0a0b0c0d",
        job_state: "PENDING",
        state_reason: "JobHeldUser",
        exit_code: 0,
      },
      {
        job_id: 5,
        name: "t1",
        job_state: "FAILED",
        state_reason: "NonZeroExitCode",
        exit_code: 768,
      },
    ],
  });
  assert.deepEqual(parseSqueueJson(text), [
    {
      jobId: "10",
      name: "updraft-abc-1-0a0b0c0d",
      state: "PENDING",
      reason: "JobHeldUser",
      exitCode: 0,
    },
    { jobId: "5", name: "t1", state: "FAILED", reason: "NonZeroExitCode", exitCode: 3 },
  ]);
  assert.throws(() => parseSqueueJson("squeue: error: x"), /not JSON/);
  assert.throws(
    () => parseSqueueJson('{"jobs":[{"job_id":"x"}]}'),
    /jobs\[0\] has no numeric job_id/,
  );
});

test("squeue's text format, names with '|' included; a bad line is named", () => {
  assert.deepEqual(parseSqueueText("12|RUNNING|None|a|b\n\n13|PENDING|Resources|c\n"), [
    { jobId: "12", state: "RUNNING", reason: "None", name: "a|b" },
    { jobId: "13", state: "PENDING", reason: "Resources", name: "c" },
  ]);
  assert.throws(() => parseSqueueText("12|RUNNING\n"), /squeue line 1/);
});

test("jobcomp/filetxt lines give state and exit status; a requeued job's last line wins", () => {
  const text = [
    "JobId=4 UserId=root(0) GroupId=root(0) Name=x JobState=FAILED Partition=debug ExitCode=0:1 ",
    "JobId=5 UserId=root(0) GroupId=root(0) Name=t1 JobState=FAILED Partition=debug DerivedExitCode=0:0 ExitCode=3:0 ",
    "JobId=6 UserId=root(0) GroupId=root(0) Name=t2 JobState=COMPLETED Partition=debug ExitCode=0:0 ",
    "JobId=6 UserId=root(0) GroupId=root(0) Name=t2 JobState=TIMEOUT Partition=debug ExitCode=0:15 ",
  ].join("\n");
  const m = parseJobcomp(text, (name) => name.startsWith("t"));
  assert.deepEqual([...m.keys()], ["5", "6"]);
  assert.equal(m.get("5")!.exitCode, 3);
  assert.equal(m.get("5")!.name, "t1");
  assert.equal(m.get("6")!.state, "TIMEOUT");
  assert.equal(m.get("6")!.exitCode, 143);
});

test("sbatch arguments: settings win over the pilot's resources; walltime rounds up to minutes", () => {
  const spec = {
    intentId: 3,
    command: "/bin/true",
    args: [],
    env: {},
    resources: { cpus: 4, memoryMb: 8000, walltimeS: 3601 },
  };
  const plain = sbatchArgs(parseSlurmSettings({}), spec, "job", "/d");
  assert.ok(
    plain.includes("--cpus-per-task=4") &&
      plain.includes("--mem=8000") &&
      plain.includes("--time=61"),
  );
  assert.ok(plain.includes("--export=ALL"));
  assert.equal(plain.at(-1), "/d/pilot.sh");
  const set = sbatchArgs(
    parseSlurmSettings({
      partition: "p",
      account: "a",
      qos: "q",
      cpus: 8,
      memory_mb: 16000,
      time_limit: "2-00:00:00",
      gpus: 2,
      extra_sbatch_options: ["--constraint=avx2"],
    }),
    spec,
    "job",
    "/d",
  );
  for (const want of [
    "--partition=p",
    "--account=a",
    "--qos=q",
    "--cpus-per-task=8",
    "--mem=16000",
    "--time=2-00:00:00",
    "--gres=gpu:2",
    "--constraint=avx2",
  ]) {
    assert.ok(set.includes(want), want);
  }
});

test("the batch script passes arguments and environment through sh unchanged", () => {
  const dir = mkdtempSync(join(tmpdir(), "updraft-slurm-script-"));
  try {
    const script = batchScript(
      {
        intentId: 11,
        command: "/usr/bin/printf",
        args: ["%s|", "a b", "it's", '"q"', "$HOME", "`x`", ""],
        env: { V: "x'y $z" },
        resources: { cpus: 1, memoryMb: 1, walltimeS: 60 },
      },
      { dir, command: "/usr/bin/printf" },
    );
    writeFileSync(join(dir, "s.sh"), script);
    const out = execFileSync("/bin/sh", [join(dir, "s.sh")], { encoding: "utf8", env: {} });
    assert.equal(out, 'a b|it\'s|"q"|$HOME|`x`||');
    assert.throws(
      () =>
        batchScript(
          {
            intentId: 1,
            command: "/bin/true",
            args: [],
            env: { "A-B": "x" },
            resources: { cpus: 1, memoryMb: 1, walltimeS: 1 },
          },
          { dir, command: "/bin/true" },
        ),
      /'A-B' is not a variable name/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("sbatch answers: ids with or without a cluster, and which refusals are worth a retry", () => {
  assert.equal(parseSbatchId("1234\n"), "1234");
  assert.equal(parseSbatchId("1234;cluster\n"), "1234");
  assert.equal(parseSbatchId("Submitted batch job 1234\n"), undefined);
  assert.equal(
    refusalIsTransient(
      "sbatch: error: Batch job submission failed: Invalid partition name specified",
    ),
    false,
  );
  assert.equal(
    refusalIsTransient(
      "sbatch: error: Batch job submission failed: Unable to contact slurm controller (connect failure)",
    ),
    true,
  );
});

test("bad settings are refused with every problem and its path", () => {
  assert.throws(
    () =>
      parseSlurmSettings({
        partition: "a b",
        time_limit: "soon",
        ssh: { host: "h", user: "u", port: 70000, identity_file: "/k", remote_dir: "relative" },
        colour: "blue",
      }),
    (err: ZodError) => {
      const paths = err.issues.map((i) => [...i.path, ...("keys" in i ? i.keys : [])].join("."));
      for (const p of ["partition", "time_limit", "ssh.port", "ssh.remote_dir", "colour"]) {
        assert.ok(paths.includes(p), `${p} in ${paths.join(", ")}`);
      }
      return true;
    },
  );
});

test("the SSH control socket stays within the Unix socket path limit and has no spaces", () => {
  assert.equal(controlPath("/var/lib/updraft/adapters/e1"), "/var/lib/updraft/adapters/e1/ssh-%C");
  const long = controlPath(`/var/lib/${"x".repeat(80)}/adapters/e1`);
  assert.ok(long.length - 2 + 40 <= 100, long);
  assert.doesNotMatch(controlPath("/tmp/a dir/e1"), /\s/);
});

test("docs/adapters/slurm.md: the example entry is a valid factory entry and every setting is documented", () => {
  const root = fileURLToPath(new URL("../../../../", import.meta.url));
  const doc = readFileSync(join(root, "docs", "adapters", "slurm.md"), "utf8");
  const block = /```yaml\n([\s\S]*?)```/.exec(doc)?.[1];
  assert.ok(block, "the page has a yaml example");
  const example = parseYaml(block) as { entries: { adapter: Record<string, unknown> }[] };
  const base = parseYaml(readFileSync(join(root, "config", "factory.yaml"), "utf8")) as object;
  const parsed = factoryConfigSchema.safeParse({ ...base, entries: example.entries });
  assert.ok(parsed.success, JSON.stringify(parsed.error?.issues));
  const settings = parseSlurmSettings(example.entries[0]!.adapter);
  assert.equal(settings.ssh?.user, "vopilot");
  const keys = [...Object.keys(slurmSettingsSchema.shape), ...Object.keys(sshSettingsSchema.shape)];
  for (const k of keys)
    assert.match(doc, new RegExp(`\\| \`${k}\` +\\|`), `setting ${k} documented`);
});

test("Slurm's unreadable answers, a command that does not answer and a bad script carry codes", async () => {
  const coded = (code: ErrorCode, says: RegExp) => (err: unknown) => {
    assert.ok(hasErrorCode(err, code), String(err));
    assert.match(err.message, says);
    return true;
  };
  assert.throws(() => parseSqueueJson("squeue: error: x"), coded("slurm-answer", /not JSON/));
  assert.throws(() => parseSqueueJson("{}"), coded("slurm-answer", /without a 'jobs' array/));
  assert.throws(() => parseSqueueText("x\n"), coded("slurm-answer", /is not 'id\|state/));
  assert.throws(() => expandTasks("5-1"), coded("slurm-answer", /not a Slurm array task list/));
  assert.throws(
    () =>
      batchScript(
        {
          intentId: 1,
          command: "/bin/true",
          args: [],
          env: { "A-B": "x" },
          resources: { cpus: 1, memoryMb: 1, walltimeS: 1 },
        },
        { dir: tmpdir(), command: "/bin/true" },
      ),
    coded("slurm-script", /'A-B' is not a variable name/),
  );
  const host = createLocalHost(200);
  await assert.rejects(
    host.run("exec sleep 30\n"),
    coded("slurm-command", /did not answer within/),
  );
});
