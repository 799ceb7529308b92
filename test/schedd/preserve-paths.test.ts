/**
 * `preserve_relative_paths`, through `updraft submit` to a real schedd and a real pilot: inputs
 * named with folders arrive in the job's sandbox under the same folders (an absolute path at the
 * top), and without it each arrives under its file name; an output named with folders comes back
 * under the same relative path.
 */
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { systemClock } from "../../src/common/clock.js";
import { planLifetime } from "../../src/pilot/lifetime.js";
import { runPilot } from "../../src/pilot/run-pilot.js";
import { scheddSource } from "../../src/pilot/schedd-source.js";
import { runCli, startEnv, type TestEnv } from "./harness.js";

let env: TestEnv;
let work: string;
before(async () => {
  env = await startEnv({ clock: systemClock });
  work = join(env.dir, "submit");
  mkdirSync(join(work, "data", "run1"), { recursive: true });
  mkdirSync(join(work, "cfg"));
  writeFileSync(join(work, "data", "run1", "events.txt"), "events\n");
  writeFileSync(join(work, "cfg", "site.json"), "{}\n");
  writeFileSync(join(env.dir, "abs.txt"), "absolute\n");
  // The job lists every file of its sandbox and writes an output inside a folder.
  writeFileSync(
    join(work, "list.sh"),
    "#!/bin/sh\nfind . -type f ! -name '_condor_*' | sort\nmkdir -p res\necho done > res/out.txt\n",
    { mode: 0o755 },
  );
});
after(() => env.close());

async function runJob(preserve: boolean): Promise<{ files: string[]; outputs: string[] }> {
  writeFileSync(
    join(work, "job.sub"),
    [
      "executable = list.sh",
      "output = job.out",
      `transfer_input_files = ./data/run1/events.txt, cfg/site.json, ${join(env.dir, "abs.txt")}`,
      "transfer_output_files = res/out.txt",
      `preserve_relative_paths = ${preserve}`,
      "request_memory = 64",
      "queue",
      "",
    ].join("\n"),
  );
  const sub = await runCli(env, work, ["submit", "job.sub"]);
  assert.equal(sub.code, 0, sub.stderr);
  assert.equal(sub.stderr, "", "no warning");
  const cluster = /submitted to cluster (\d+)/.exec(sub.stdout)![1]!;
  const result = await runPilot({
    clock: systemClock,
    plan: planLifetime({ maxWalltimeS: 600, maxIdleS: 1 }, Date.now(), () => 0),
    identity: { pilotId: `pilot-paths-${cluster}`, host: "wn01" },
    resources: { cpus: 1, memoryMb: 1000, diskKb: 4_000_000, gpus: 0 },
    nodeAttrs: { OpSys: "LINUX", Arch: "X86_64" },
    published: {},
    workDir: join(env.dir, `pilot-${cluster}`),
    sources: [scheddSource(env.schedd.url(), env.client("pilot"))],
    advertiser: { advertise: async () => {}, invalidate: async () => {} },
    claimRetryMs: 200,
  });
  assert.equal(result.jobs.length, 1);
  const alice = env.client("alice");
  const [done] = await alice.query({ ids: [`${cluster}.0`], history: true });
  assert.equal(done!.JobStatus, "4", `completed: ${done!.HoldReason ?? ""}`);
  let out = "";
  const outputs: string[] = [];
  for await (const ch of alice.fetchOutput(`${cluster}.0`)) {
    if (ch.offset === 0) outputs.push(ch.name);
    if (ch.name === "job.out") out += Buffer.from(ch.data).toString();
  }
  return { files: out.trim().split("\n"), outputs: outputs.sort() };
}

test("with preserve_relative_paths inputs keep their folders in the sandbox", async () => {
  const r = await runJob(true);
  assert.deepEqual(r.files, [
    "./abs.txt",
    "./cfg/site.json",
    "./data/run1/events.txt",
    "./job.out",
    "./list.sh",
  ]);
  assert.deepEqual(r.outputs, ["job.out", "res/out.txt"]);
});

test("without it every input lands at the top of the sandbox", async () => {
  const r = await runJob(false);
  assert.deepEqual(r.files, ["./abs.txt", "./events.txt", "./job.out", "./list.sh", "./site.json"]);
  assert.deepEqual(r.outputs, ["job.out", "res/out.txt"]);
});
