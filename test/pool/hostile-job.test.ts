/**
 * A hostile job at a real pool (a real schedd and collector on loopback, a real pilot started by
 * the bootstrap the way the factory's adapters start it, the credential in UPDRAFT_PILOT_CREDENTIAL
 * and X509_USER_PROXY): the job searches its environment, its parents' /proc entries (environment,
 * command line, open files, memory), its own open files and the directories above its sandbox
 * for the pilot's credential, and tries to claim a job as a pilot with whatever it finds. It finds
 * nothing, its claim is refused, and another user's job that no real pilot would run stays idle.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { parsePilotOutput } from "../../src/pilot/report.js";
import { startPilotCollector } from "../helpers/pilot-collector.js";
import { job, startEnv, submit } from "../schedd/harness.js";

const repo = fileURLToPath(new URL("../../../", import.meta.url));
const SCRIPT = join(repo, "src/pilot/updraft-pilot-startup.sh");
const UPDRAFT = join(repo, "bin/updraft.js");
const HOSTILE = fileURLToPath(new URL("./hostile-job.js", import.meta.url));

test("a hostile job finds no pilot credential and cannot claim a job as a pilot", async (t) => {
  const env = await startEnv();
  t.after(() => env.close());
  const { collector, reader } = await startPilotCollector(env, t);

  // The worker node's own area: the batch job's directory, where the pilot's credential copy is.
  const node = mkdtempSync(join(tmpdir(), "updraft-hostile-node-"));
  t.after(() => rmSync(node, { recursive: true, force: true }));
  const batchDir = join(node, "batch-job");
  mkdirSync(batchDir);
  const credential = join(batchDir, "credential");
  writeFileSync(credential, env.creds.pilot.certPem + env.creds.pilot.keyPem, { mode: 0o600 });

  // Bob's job no real pilot would run; alice's hostile job.
  const bob = env.client("bob");
  const victim = await submit(bob, [job({ Requirements: 'TARGET.GLIDEIN_Site == "Nowhere"' })]);
  const alice = env.client("alice");
  const args = [HOSTILE, env.schedd.url(), env.pki.caDir, node].map((a) => `'${a}'`).join(" ");
  const hostile = await submit(alice, [
    job({
      Cmd: JSON.stringify(process.execPath),
      // A program of the worker node, not a file sent with the job.
      TransferExecutable: "false",
      Arguments: JSON.stringify(args),
      Out: '"report.json"',
      Err: '"errors.txt"',
      TransferOutput: '"report.json,errors.txt"',
      RequestMemory: "256",
    }),
  ]);

  const pilot = spawn(
    "/bin/sh",
    [SCRIPT, "--installed", "--updraft", UPDRAFT, "--work-base", node]
      .concat(["--collector", collector.url, "--schedd", env.schedd.url()])
      .concat(["--trust-dir", env.pki.caDir, "--pilot-id", "hostile-test"])
      .concat(["--max-idle", "3", "--max-walltime", "3600"]),
    {
      cwd: batchDir,
      env: {
        PATH: process.env.PATH ?? "",
        HOME: batchDir,
        UPDRAFT_PILOT_CREDENTIAL: credential,
        X509_USER_PROXY: credential,
        UPDRAFT_JOB_ISOLATION: "required",
      },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let out = "";
  pilot.stdout.on("data", (d) => (out += d));
  pilot.stderr.on("data", (d) => (out += d));
  // The slot ad while the pilot lives says which isolation its jobs get.
  let isolation: string | undefined;
  const exited = new Promise<number | null>((r) => pilot.on("close", r));
  let done = false;
  void exited.then(() => (done = true));
  while (!done && isolation === undefined) {
    const ads = await reader.query({ type: "Slot" }).catch(() => []);
    const mine = ads.find((a) => a.Name?.includes("hostile-test"));
    if (mine) isolation = mine.JobIsolation;
    await new Promise((r) => setTimeout(r, 100));
  }
  const code = await exited;
  assert.equal(code, 0, out);
  assert.equal(isolation, '"namespaces"', "the slot advertised its jobs' isolation");
  assert.equal(parsePilotOutput(out).report?.jobs.length, 1, out);

  const [done1] = await alice.query({ ids: [`${hostile}.0`], history: true });
  assert.equal(done1?.JobStatus, "4", `the hostile job completed: ${out}`);
  const files = new Map<string, string>();
  for await (const c of alice.fetchOutput(`${hostile}.0`)) {
    files.set(c.name, (files.get(c.name) ?? "") + Buffer.from(c.data).toString());
  }
  const text = files.get("report.json") ?? "";
  const report = JSON.parse(text.trim().split("\n").pop() ?? "{}") as {
    searched: { envVars: number; pids: number[]; files: number; fds: number; memBytes: number };
    found: string[];
    tokens: number;
    claims: { with: string; ok: boolean; error?: string }[];
  };
  assert.ok(report.searched, `the job reported: ${text}${files.get("errors.txt") ?? ""}`);
  assert.ok(report.searched.envVars > 0 && report.searched.fds > 0, JSON.stringify(report));
  assert.ok(report.searched.pids.length > 0, "it saw its parents in its own pid namespace");
  assert.deepEqual(report.found, [], "no credential anywhere it looked");
  assert.equal(report.tokens, 0);
  assert.ok(report.claims.length > 0, "it tried to claim");
  for (const c of report.claims) assert.equal(c.ok, false, JSON.stringify(c));

  const [still] = await bob.query({ ids: [`${victim}.0`] });
  assert.equal(still?.JobStatus, "1", "bob's job is still idle");
});
