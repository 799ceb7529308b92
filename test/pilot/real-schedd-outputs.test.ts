/**
 * Outputs between a pilot and a real schedd: a job that lists no outputs gets back every file
 * it made in its sandbox (its staged executable, unchanged, stays behind); a listed output the
 * job did not make holds it with code 12 naming the file; an output over the schedd's
 * `sandbox.max_file_mb` holds it with code 12 saying so, once, without endless retries; output
 * names that leave the sandbox, from a client that is not updraft submit, hold the job once.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { systemClock } from "../../src/common/clock.js";
import { planLifetime } from "../../src/pilot/lifetime.js";
import { runPilot } from "../../src/pilot/run-pilot.js";
import { scheddSource } from "../../src/pilot/schedd-source.js";
import type { ScheddClient } from "../../src/schedd/client.js";
import { job, startEnv } from "../schedd/harness.js";
import { hangGuard } from "../helpers/hang-guard.js";

const GUARD_MS = 60_000;

const within = hangGuard(GUARD_MS);

const SCRIPT = [
  "#!/bin/sh",
  'echo "stdout of $1"',
  'echo "histogram" > histos.root',
  '[ "$1" = big ] && head -c 2200000 /dev/zero > big.bin',
  "exit 0",
  "",
].join("\n");

async function putScript(c: ScheddClient, jobId: string): Promise<void> {
  const data = Buffer.from(SCRIPT);
  const sha256 = createHash("sha256").update(data).digest("hex");
  await c.putInput({ name: "run.sh", offset: 0, data, last: true, sha256, leaseId: "", jobId });
}

async function outputsOf(c: ScheddClient, id: string): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  for await (const ch of c.fetchOutput(id)) {
    files.set(ch.name, (files.get(ch.name) ?? "") + Buffer.from(ch.data).toString());
  }
  return files;
}

test("outputs: every made file comes back, a missing or oversized one holds with code 12", async (t) => {
  const env = await startEnv({
    clock: systemClock,
    timers: true,
    extra: { sandbox: { max_file_mb: 2, max_sandbox_mb: 100, keep_output_s: 3600 } },
  });
  t.after(() => env.close());
  const dir = mkdtempSync(join(tmpdir(), "updraft-pilot-outputs-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const alice = env.client("alice");
  // The executable's submit-host path does not exist on the worker: only the staged copy runs.
  const base = { Cmd: '"/home/alice/analysis/run.sh"', RequestMemory: "64", Out: '"job.out"' };
  const cluster = await alice.newCluster();
  await alice.submitJobs(cluster, [
    job({ ...base, Arguments: '"all"' }),
    job({ ...base, Arguments: '"missing"', TransferOutput: '"histos.root,missing.root"' }),
    job({ ...base, Arguments: '"big"' }),
  ]);
  for (const proc of [0, 1, 2]) await putScript(alice, `${cluster}.${proc}`);

  const result = await within(
    runPilot({
      clock: systemClock,
      plan: planLifetime({ maxWalltimeS: 600, maxIdleS: 1 }, Date.now(), () => 0),
      identity: { pilotId: "pilot-outputs", host: "wn01" },
      resources: { cpus: 1, memoryMb: 1000, diskKb: 1_000_000, gpus: 0 },
      nodeAttrs: { OpSys: "LINUX", Arch: "X86_64" },
      published: {},
      workDir: join(dir, "work"),
      sources: [scheddSource(env.schedd.url(), env.client("pilot"))],
      advertiser: { advertise: async () => {}, invalidate: async () => {} },
      claimRetryMs: 200,
    }),
    "pilot run",
  );
  assert.equal(result.jobs.length, 3, "each job ran once: no retry loop");

  const [all] = await alice.query({ ids: [`${cluster}.0`], history: true });
  assert.equal(all!.JobStatus, "4", "completed");
  const files = await outputsOf(alice, `${cluster}.0`);
  assert.deepEqual([...files.keys()].sort(), ["histos.root", "job.out"]);
  assert.equal(files.get("histos.root"), "histogram\n");
  assert.equal(files.get("job.out"), "stdout of all\n");

  const [missing] = await alice.query({ ids: [`${cluster}.1`] });
  assert.equal(missing!.JobStatus, "5", "held");
  assert.equal(missing!.HoldReasonCode, "12");
  assert.equal(missing!.HoldReasonSubCode, "2");
  assert.match(missing!.HoldReason!, /missing\.root: \(errno 2\) No such file or directory/);

  const [big] = await alice.query({ ids: [`${cluster}.2`] });
  assert.equal(big!.JobStatus, "5", "held");
  assert.equal(big!.HoldReasonCode, "12");
  assert.match(big!.HoldReason!, /big\.bin' exceeds the file limit of 2097152 bytes/);
});

test("attack: output names that leave the sandbox, sent past updraft submit, hold each job once with why", async (t) => {
  const env = await startEnv({ clock: systemClock, timers: true });
  t.after(() => env.close());
  const dir = mkdtempSync(join(tmpdir(), "updraft-pilot-escape-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const alice = env.client("alice");
  const base = { Cmd: '"run.sh"', RequestMemory: "64", Arguments: '"x"' };
  const cluster = await alice.newCluster();
  // A client that is not updraft submit sends what submit refuses: the schedd stores it as sent.
  await alice.submitJobs(cluster, [
    job({ ...base, Out: '"../../escape.out"' }),
    job({ ...base, Err: '"/tmp/escape.err"' }),
    job({ ...base, TransferOutput: '"histos.root,../escape.root"' }),
  ]);
  for (const proc of [0, 1, 2]) await putScript(alice, `${cluster}.${proc}`);

  const result = await within(
    runPilot({
      clock: systemClock,
      plan: planLifetime({ maxWalltimeS: 600, maxIdleS: 1 }, Date.now(), () => 0),
      identity: { pilotId: "pilot-escape", host: "wn01" },
      resources: { cpus: 1, memoryMb: 1000, diskKb: 1_000_000, gpus: 0 },
      nodeAttrs: { OpSys: "LINUX", Arch: "X86_64" },
      published: {},
      workDir: join(dir, "work"),
      sources: [scheddSource(env.schedd.url(), env.client("pilot"))],
      advertiser: { advertise: async () => {}, invalidate: async () => {} },
      claimRetryMs: 200,
    }),
    "pilot run",
  );
  assert.equal(result.jobs.length, 3, "each job was taken once: held, never retried");
  const expected = [
    ["7", /outside/],
    ["7", /outside/],
    ["12", /escape\.root/],
  ] as const;
  for (const [proc, [code, why]] of expected.entries()) {
    const [a] = await alice.query({ ids: [`${cluster}.${proc}`] });
    assert.equal(a!.JobStatus, "5", `${cluster}.${proc} held`);
    assert.equal(a!.HoldReasonCode, code);
    assert.match(a!.HoldReason!, why);
  }
  const written = readdirSync(dir, { recursive: true }).map(String);
  assert.deepEqual(
    written.filter((f) => /escape/.test(f)),
    [],
    "nothing was written outside the sandbox",
  );
  assert.equal(existsSync("/tmp/escape.err"), false);
});

test("outputs: several go up at once, at most four, and every byte arrives", async (t) => {
  const env = await startEnv({ clock: systemClock, timers: true });
  t.after(() => env.close());
  const dir = mkdtempSync(join(tmpdir(), "updraft-pilot-outputs-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const alice = env.client("alice");
  const script = [
    "#!/bin/sh",
    'for i in 1 2 3 4 5 6; do echo "file $i" > small$i.txt; done',
    // Three chunks of the pilot's 256 KiB: sent in order within its own upload.
    "awk 'BEGIN { for (i = 0; i < 60000; i++) printf \"line %05d\\n\", i }' > big.txt",
    "echo done",
    "",
  ].join("\n");
  const cluster = await alice.newCluster();
  await alice.submitJobs(cluster, [
    job({ Cmd: '"/home/alice/many.sh"', RequestMemory: "64", Out: '"job.out"' }),
  ]);
  const data = Buffer.from(script);
  const sha256 = createHash("sha256").update(data).digest("hex");
  await alice.putInput({
    name: "many.sh",
    offset: 0,
    data,
    last: true,
    sha256,
    leaseId: "",
    jobId: `${cluster}.0`,
  });

  const pilot = env.client("pilot");
  const putOutput = pilot.putOutput.bind(pilot);
  let inFlight = 0;
  let peak = 0;
  pilot.putOutput = async (req) => {
    peak = Math.max(peak, ++inFlight);
    try {
      return await putOutput(req);
    } finally {
      inFlight--;
    }
  };
  const result = await within(
    runPilot({
      clock: systemClock,
      plan: planLifetime({ maxWalltimeS: 600, maxIdleS: 1 }, Date.now(), () => 0),
      identity: { pilotId: "pilot-many-outputs", host: "wn01" },
      resources: { cpus: 1, memoryMb: 1000, diskKb: 1_000_000, gpus: 0 },
      nodeAttrs: { OpSys: "LINUX", Arch: "X86_64" },
      published: {},
      workDir: join(dir, "work"),
      sources: [scheddSource(env.schedd.url(), pilot)],
      advertiser: { advertise: async () => {}, invalidate: async () => {} },
      claimRetryMs: 200,
    }),
    "pilot run",
  );
  assert.deepEqual(
    result.jobs.map((j) => [j.disposition, j.exitCode]),
    [["completed", 0]],
  );
  assert.equal(peak, 4, "four uploads in flight at most, and as many as there were");
  const [done] = await alice.query({ ids: [`${cluster}.0`], history: true });
  assert.equal(done!.JobStatus, "4", "completed");
  const files = await outputsOf(alice, `${cluster}.0`);
  assert.deepEqual(
    [...files.keys()].sort(),
    ["big.txt", "job.out", ...[1, 2, 3, 4, 5, 6].map((i) => `small${i}.txt`)].sort(),
  );
  for (const i of [1, 2, 3, 4, 5, 6]) assert.equal(files.get(`small${i}.txt`), `file ${i}\n`);
  const big = files.get("big.txt")!;
  assert.equal(big.length, 60000 * 11);
  assert.ok(big.startsWith("line 00000\nline 00001\n") && big.endsWith("line 59999\n"));
  assert.equal(files.get("job.out"), "done\n");
});
