/**
 * A whole pilot process in-process against a real schedd and a real collector sharing one test
 * PKI: it claims two submitted jobs, runs them, uploads their output, advertises its slot while
 * running and invalidates it when it stops on its idle limit.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { runPilotProcess } from "../../src/pilot/pilot-main.js";
import { resolveSettings } from "../../src/pilot/settings.js";
import { startPilotCollector } from "../helpers/pilot-collector.js";
import { job, startEnv, submit } from "../schedd/harness.js";
import { createNodeFixture } from "./node-fixture.js";
import { hangGuard } from "../helpers/hang-guard.js";
import { pilotCredentialFile } from "./pilot-credential.js";

/** Hang guard only: every wait below ends far sooner when things work. */
const GUARD_MS = 60_000;

const within = hangGuard(GUARD_MS);

test("a pilot runs two jobs from a real schedd and advertises to a real collector", async (t) => {
  const env = await startEnv();
  t.after(() => env.close());
  const { collector, reader } = await startPilotCollector(env, t);

  const dir = mkdtempSync(join(tmpdir(), "updraft-pilot-real-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const credentialFile = pilotCredentialFile(env, dir);

  const alice = env.client("alice");
  const jobAttrs = job({
    TransferExecutable: "false",
    Cmd: '"/bin/sh"',
    Arguments: "\"-c 'echo hi > out.txt'\"",
    TransferOutput: '"out.txt"',
    RequestMemory: "64",
  });
  const cluster = await submit(alice, [jobAttrs, jobAttrs]);
  const ids = [`${cluster}.0`, `${cluster}.1`];

  const node = createNodeFixture();
  t.after(() => node.cleanup());
  const r = resolveSettings(
    {
      pilotId: "pilot-realtest",
      workDir: join(dir, "work"),
      collector: collector.url,
      schedd: [env.schedd.url()],
      credential: credentialFile,
      trustDir: env.pki.caDir,
      maxWalltime: 3600,
      maxIdle: 2,
      grace: 5,
    },
    {},
    () => "unused",
  );
  assert.ok(r.ok, JSON.stringify(r));

  let output = "";
  const run = runPilotProcess(r.settings, {
    view: node.view(),
    write: (text) => (output += text),
  });
  // Watch the collector while the pilot lives: its slot must show up there.
  const slotName = "slot1@pilot-realtest@wn01.example.org";
  let seen = false;
  let stopped = false;
  const watching = (async () => {
    while (!stopped && !seen) {
      const ads = await reader.query({ type: "Slot" });
      seen = ads.some((a) => a.Name === `"${slotName}"`);
      await new Promise((res) => setTimeout(res, 50));
    }
  })();
  const code = await within(run, "pilot run");
  stopped = true;
  await watching;
  assert.equal(code, 0, output);
  assert.ok(seen, "the slot ad was visible in the collector while the pilot ran");

  const after = await reader.query({ type: "Slot" });
  assert.equal(after.filter((a) => a.Name === `"${slotName}"`).length, 0, "slot invalidated");

  const jobs = await alice.query({ ids, history: true });
  assert.equal(jobs.length, 2);
  for (const j of jobs) {
    assert.equal(j.JobStatus, "4", `job ${j.ClusterId}.${j.ProcId} completed`);
    assert.equal(j.ExitCode, "0");
  }
  for (const id of ids) {
    const chunks: Uint8Array[] = [];
    const names: string[] = [];
    for await (const c of alice.fetchOutput(id)) {
      names.push(c.name);
      chunks.push(c.data);
    }
    assert.deepEqual(names, ["out.txt"]);
    assert.equal(Buffer.concat(chunks).toString(), "hi\n");
  }
});

test("a job's dynamic slot shows it running and leaves at its end, not at the next refresh", async (t) => {
  const env = await startEnv();
  t.after(() => env.close());
  const { collector, reader } = await startPilotCollector(env, t);
  const dir = mkdtempSync(join(tmpdir(), "updraft-pilot-state-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const credentialFile = pilotCredentialFile(env, dir);
  const alice = env.client("alice");
  const cluster = await submit(alice, [
    job({
      TransferExecutable: "false",
      Cmd: '"/bin/sleep"',
      // Long enough that a loaded machine's collector queries see the job's slot before it ends.
      Arguments: '"4"',
      RequestMemory: "64",
    }),
  ]);
  const node = createNodeFixture();
  t.after(() => node.cleanup());
  const r = resolveSettings(
    {
      pilotId: "pilot-slotstate",
      workDir: join(dir, "work"),
      collector: collector.url,
      schedd: [env.schedd.url()],
      credential: credentialFile,
      trustDir: env.pki.caDir,
      maxWalltime: 3600,
      // Idle longer than the wait below, shorter than the pilot's 60 s periodic refresh: only
      // an advertisement on the job's end can show the slot Unclaimed while the pilot lives.
      maxIdle: 50,
      grace: 5,
    },
    {},
    () => "unused",
  );
  assert.ok(r.ok, JSON.stringify(r));
  const terminate = new AbortController();
  let output = "";
  const run = runPilotProcess(r.settings, {
    view: node.view(),
    write: (text) => (output += text),
    terminate: terminate.signal,
  });
  const slotName = '"slot1@pilot-slotstate@wn01.example.org"';
  const jobSlotName = '"slot1_1@pilot-slotstate@wn01.example.org"';
  // The partitionable slot's state and children, then its job's dynamic slot, if any.
  const stateOf = async () => {
    const ads = await reader.query({ type: "Slot" });
    const [ad] = ads.filter((a) => a.Name === slotName);
    const [child] = ads.filter((a) => a.Name === jobSlotName);
    if (ad === undefined) return undefined;
    const job = child === undefined ? "" : ` ${child.State}/${child.Activity}/${child.JobId}`;
    return `${ad.State}/${ad.Activity}/${ad.NumDynamicSlots}${job}`;
  };
  const seen: string[] = [];
  const until = async (what: string, ok: () => Promise<boolean>) => {
    const end = Date.now() + 40_000;
    while (!(await ok())) {
      if (Date.now() > end) throw new Error(`${what}; slot states seen: ${seen.join(", ")}`);
      await new Promise((res) => setTimeout(res, 100));
    }
  };
  const sees = (state: string) => async () => {
    const s = await stateOf();
    if (s !== undefined && seen.at(-1) !== s) seen.push(s);
    return s === state;
  };
  await until(
    "the slot never showed its job",
    sees(`"Unclaimed"/"Idle"/1 "Claimed"/"Busy"/"${cluster}.0"`),
  );
  // The running job names the dynamic slot the pilot advertises for it, as HTCondor's does.
  const [running] = await alice.query({ ids: [`${cluster}.0`] });
  assert.ok(running === undefined || running.RemoteHost === jobSlotName, running?.RemoteHost);
  await until("the job never completed", async () => {
    const [j] = await alice.query({ ids: [`${cluster}.0`], history: true });
    return j?.JobStatus === "4";
  });
  const [done] = await alice.query({ ids: [`${cluster}.0`], history: true });
  assert.equal(done!.LastRemoteHost, jobSlotName);
  await until("the slot stayed busy after its job ended", sees('"Unclaimed"/"Idle"/0'));
  terminate.abort();
  assert.equal(await within(run, "pilot run"), 0, output);
});
