/**
 * The job wrapper hook with real jobs from a real schedd under a real pilot: the job starts
 * through the wrapper after the pre-job script and before the post-job script, its environment,
 * exit code and signal come back unchanged; a failing pre-job script hands the job back and ends
 * the pilot; a missing, non-executable or altered wrapper ends the pilot before any claim; a
 * script past its time limit is killed.
 */
import assert from "node:assert/strict";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { runPilotProcess } from "../../src/pilot/pilot-main.js";
import { parsePilotOutput } from "../../src/pilot/report.js";
import { resolveSettings, type PilotOptions } from "../../src/pilot/settings.js";
import { job, startEnv, submit, type TestEnv } from "../schedd/harness.js";
import { createNodeFixture } from "./node-fixture.js";
import { hangGuard } from "../helpers/hang-guard.js";

const GUARD_MS = 90_000;

const within = hangGuard(GUARD_MS);

function script(dir: string, name: string, body: string, mode = 0o755): string {
  const p = join(dir, name);
  writeFileSync(p, `#!/bin/sh\n${body}\n`);
  chmodSync(p, mode);
  return p;
}

async function pilot(env: TestEnv | undefined, dir: string, o: PilotOptions) {
  const credential = join(dir, "pilot-credential.pem");
  if (env) {
    writeFileSync(credential, env.creds.pilot.certPem + env.creds.pilot.keyPem, { mode: 0o600 });
  }
  const r = resolveSettings(
    {
      pilotId: "pilot-hooks",
      workDir: join(dir, "work"),
      ...(env ? { schedd: [env.schedd.url()], credential, trustDir: env.pki.caDir } : {}),
      maxWalltime: 3600,
      maxIdle: 2,
      grace: 5,
      ...o,
    },
    {},
    () => "unused",
  );
  assert.ok(r.ok, JSON.stringify(r));
  const node = createNodeFixture();
  let output = "";
  try {
    const code = await within(
      runPilotProcess(r.settings, { view: node.view(), write: (t) => (output += t) }),
      "pilot",
    );
    return { code, output, report: parsePilotOutput(output).report };
  } finally {
    node.cleanup();
  }
}

async function outputs(env: TestEnv, id: string): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  for await (const c of env.client("alice").fetchOutput(id)) {
    files[c.name] = (files[c.name] ?? "") + Buffer.from(c.data).toString();
  }
  return files;
}

test("jobs start through the wrapper between the pre- and post-job scripts; environment, exit code and signal pass through", async (t) => {
  const env = await startEnv();
  t.after(() => env.close());
  const dir = mkdtempSync(join(tmpdir(), "updraft-hooks-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const wrapper = script(dir, "wrapper.sh", 'echo "$@" > wrapped.txt\nexec "$@"');
  const pre = script(dir, "pre.sh", "echo pre > pre.txt");
  const post = script(dir, "post.sh", 'echo "post after $(cat out.txt | tail -1)" > post.txt');
  const alice = env.client("alice");
  const cluster = await submit(alice, [
    job({
      TransferExecutable: "false",
      Cmd: '"/bin/sh"',
      Arguments: "\"-c 'cat pre.txt > out.txt; echo $GREETING >> out.txt; exit 7'\"",
      Environment: '"GREETING=hello"',
      TransferOutput: '"out.txt,wrapped.txt,post.txt"',
      RequestMemory: "64",
    }),
    job({
      TransferExecutable: "false",
      Cmd: '"/bin/sh"',
      Arguments: "\"-c 'kill -KILL $$'\"",
      TransferOutput: '""',
      RequestMemory: "64",
    }),
  ]);
  const p = await pilot(env, dir, { jobWrapper: wrapper, preJob: pre, postJob: post });
  assert.equal(p.code, 0, p.output);
  const ads = await alice.query({ ids: [`${cluster}.0`, `${cluster}.1`], history: true });
  const exited = ads.find((a) => a.ProcId === "0");
  const killed = ads.find((a) => a.ProcId === "1");
  assert.equal(exited!.JobStatus, "4");
  assert.equal(exited!.ExitCode, "7", "the job's exit code, not the wrapper's");
  assert.equal(exited!.ExitBySignal, "false");
  assert.deepEqual(await outputs(env, `${cluster}.0`), {
    "out.txt": "pre\nhello\n",
    "wrapped.txt": "/bin/sh -c cat pre.txt > out.txt; echo $GREETING >> out.txt; exit 7\n",
    "post.txt": "post after hello\n",
  });
  assert.equal(killed!.JobStatus, "4");
  assert.equal(killed!.ExitBySignal, "true", "a signal passes through the wrapper");
  assert.equal(killed!.ExitSignal, "9");
});

test("a failing pre-job script hands the job back unheld and ends the pilot naming the script", async (t) => {
  const env = await startEnv();
  t.after(() => env.close());
  const dir = mkdtempSync(join(tmpdir(), "updraft-hooks-pre-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const pre = script(dir, "pre.sh", 'echo "scratch not mounted" >&2\nexit 3');
  const alice = env.client("alice");
  const cluster = await submit(alice, [
    job({ TransferExecutable: "false", Cmd: '"/bin/true"', RequestMemory: "64" }),
    job({ TransferExecutable: "false", Cmd: '"/bin/true"', RequestMemory: "64" }),
  ]);
  const p = await pilot(env, dir, { preJob: pre });
  assert.equal(p.code, 11, p.output);
  assert.equal(p.report?.exit.failureClass, "WN_Resource");
  assert.equal(p.report?.exit.reason, "job-hook");
  assert.match(
    p.report?.exit.message ?? "",
    new RegExp(`${pre} exited with 3: scratch not mounted`),
  );
  const tried = p.report?.jobs.map((j) => j.disposition) ?? [];
  assert.ok(tried.length >= 1, "a job was tried");
  assert.ok(
    tried.every((d) => d === "released"),
    `every job tried was handed back (${tried.join(",")})`,
  );
  const ads = await alice.query({ ids: [`${cluster}.0`, `${cluster}.1`] });
  assert.deepEqual(
    ads.map((a) => a.JobStatus),
    ["1", "1"],
    "both idle, none held for the pilot's fault",
  );
  assert.match(ads[0]!.VacateReason ?? "", /pre-job script failed/);
});

test("a missing, non-executable or altered wrapper or script ends the pilot before any claim, naming the file", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "updraft-hooks-bad-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const missing = join(dir, "no-such-wrapper.sh");
  const flat = script(dir, "flat.sh", 'exec "$@"', 0o644);
  const good = script(dir, "good.sh", 'exec "$@"');
  const cases: [PilotOptions, number, string, RegExp][] = [
    [{ jobWrapper: missing }, 13, "Config", new RegExp(`job wrapper ${missing} does not exist`)],
    [{ jobWrapper: flat }, 13, "Config", new RegExp(`job wrapper ${flat} is not executable`)],
    [{ jobWrapper: dir }, 13, "Config", /is not a regular file/],
    [
      { jobWrapper: good, jobWrapperSha256: "0".repeat(64) },
      16,
      "Corruption",
      new RegExp(`job wrapper ${good} has SHA-256 [0-9a-f]{64}, expected 0{64}`),
    ],
    [{ postJob: missing }, 13, "Config", new RegExp(`post-job script ${missing} does not exist`)],
    [
      { preJob: good, preJobSha256: "1".repeat(64) },
      16,
      "Corruption",
      new RegExp(`pre-job script ${good} has SHA-256 [0-9a-f]{64}, expected 1{64}`),
    ],
    [
      { postJob: good, postJobSha256: "2".repeat(64) },
      16,
      "Corruption",
      new RegExp(`post-job script ${good} has SHA-256 [0-9a-f]{64}, expected 2{64}`),
    ],
  ];
  for (const [o, code, cls, message] of cases) {
    const p = await pilot(undefined, dir, o);
    assert.equal(p.code, code, p.output);
    assert.equal(p.report?.exit.failureClass, cls);
    assert.match(p.report?.exit.message ?? "", message);
    assert.deepEqual(p.report?.jobs, []);
  }
});

test("pre- and post-job scripts past their time limit are killed: a pre-job one hands the job back, a post-job one leaves the job's result", async (t) => {
  const env = await startEnv();
  t.after(() => env.close());
  const dir = mkdtempSync(join(tmpdir(), "updraft-hooks-limit-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const pids = join(dir, "pids");
  // Each script becomes the sleep, so the pid it records is the process the limit must kill.
  const slow = (name: string) => script(dir, name, `echo $$ >> ${pids}\nexec /bin/sleep 600`);
  const alive = (pid: number) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  const recorded = () =>
    readFileSync(pids, "utf8")
      .trim()
      .split("\n")
      .map((l) => Number(l));
  const alice = env.client("alice");

  // A slow pre-job script: the job goes back to the queue, the pilot ends naming the limit.
  const held = await submit(alice, [
    job({ TransferExecutable: "false", Cmd: '"/bin/true"', RequestMemory: "64" }),
  ]);
  const pre = slow("pre.sh");
  const p1 = await pilot(env, dir, { preJob: pre, hookTimeout: 2 });
  assert.equal(p1.code, 11, p1.output);
  assert.equal(p1.report?.exit.reason, "job-hook");
  assert.match(p1.report?.exit.message ?? "", new RegExp(`${pre} timed out after 2 s`));
  const [back] = await alice.query({ ids: [`${held}.0`] });
  assert.equal(back!.JobStatus, "1", "the job is idle again, not held");
  assert.ok(
    recorded().every((pid) => !alive(pid)),
    "the pre-job script was killed",
  );

  // A slow post-job script: killed at its limit; the job completed as it ran.
  await alice.act("remove", { ids: [`${held}.0`] });
  const done = await submit(alice, [
    job({
      TransferExecutable: "false",
      Cmd: '"/bin/sh"',
      Arguments: "\"-c 'exit 5'\"",
      TransferOutput: '""',
      RequestMemory: "64",
    }),
  ]);
  const p2 = await pilot(env, dir, { postJob: slow("post.sh"), hookTimeout: 2 });
  assert.equal(p2.code, 0, p2.output);
  const [ad] = await alice.query({ ids: [`${done}.0`], history: true });
  assert.equal(ad!.JobStatus, "4", "completed");
  assert.equal(ad!.ExitCode, "5", "the job's own exit code");
  assert.ok(
    recorded().every((pid) => !alive(pid)),
    "the post-job script was killed",
  );
});
