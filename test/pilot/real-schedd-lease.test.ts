/**
 * Leases between a pilot and a real schedd: a pilot stopped by SIGTERM hands its running job
 * back and the job is Idle at once (not 20 minutes later when the lease would lapse), and a
 * lease far shorter than the old fixed 60 s heartbeat is kept alive because heartbeats follow it,
 * and a job matched just as a periodic check fails goes back at once.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { systemClock } from "../../src/common/clock.js";
import { planLifetime } from "../../src/pilot/lifetime.js";
import { runPilotProcess } from "../../src/pilot/pilot-main.js";
import { PERIODIC_CHECK_FAILED } from "../../src/pilot/pilot-apply.js";
import { runPilot } from "../../src/pilot/run-pilot.js";
import { scheddSource } from "../../src/pilot/schedd-source.js";
import { resolveSettings } from "../../src/pilot/settings.js";
import { job, startEnv, submit } from "../schedd/harness.js";
import { createNodeFixture } from "./node-fixture.js";
import { hangGuard } from "../helpers/hang-guard.js";
import { pilotCredentialFile } from "./pilot-credential.js";

/** Hang guard only: every wait below ends far sooner when things work. */
const GUARD_MS = 60_000;

const within = hangGuard(GUARD_MS);

async function until(what: string, check: () => Promise<boolean>): Promise<void> {
  const end = Date.now() + GUARD_MS;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`${what}: not within ${GUARD_MS} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test("SIGTERM: the pilot hands its running job back and the job is Idle at once", async (t) => {
  // The schedd's clock stands still: the lease cannot lapse, only a release can requeue.
  const env = await startEnv();
  t.after(() => env.close());
  const dir = mkdtempSync(join(tmpdir(), "updraft-pilot-release-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const alice = env.client("alice");
  const cluster = await submit(alice, [
    job({
      TransferExecutable: "false",
      Cmd: '"/bin/sleep"',
      Arguments: '"60"',
      RequestMemory: "64",
    }),
  ]);
  const id = `${cluster}.0`;

  const node = createNodeFixture();
  t.after(() => node.cleanup());
  const r = resolveSettings(
    {
      pilotId: "pilot-sigterm",
      workDir: join(dir, "work"),
      schedd: [env.schedd.url()],
      credential: pilotCredentialFile(env, dir),
      trustDir: env.pki.caDir,
      maxWalltime: 3600,
      maxIdle: 60,
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
  await until("job running", async () => (await alice.query({ ids: [id] }))[0]?.JobStatus === "2");
  terminate.abort();
  const code = await within(run, "pilot run");
  assert.equal(code, 0, output);
  assert.match(output, /"disposition":"released"/);

  const [ad] = await alice.query({ ids: [id] });
  assert.equal(ad!.JobStatus, "1", "back in the queue without waiting for the lease");
  assert.equal(ad!.NumJobStarts, "1");
  assert.equal(ad!.VacateReason, '"pilot terminated by its batch system (SIGTERM)"');
  assert.equal(ad!.LastRemoteHost, '"slot1_1@pilot-sigterm@wn01.example.org"');
  // The next pilot gets it straight away.
  const again = await env.client("pilot2").claimJob({
    Name: '"slot1@other"',
    Cpus: "1",
    Memory: "1024",
    Disk: "1000000",
    START: "true",
    Requirements: "START",
  });
  assert.equal(again.jobId, id);
});

test("a lease shorter than the old fixed heartbeat period stays alive for the whole job", async (t) => {
  // Real clock and timers: a 1.5 s lease, checked for lapses every 100 ms.
  const env = await startEnv({
    clock: systemClock,
    timers: true,
    extra: { lease_s: 1.5, lease_check_s: 0.1 },
  });
  t.after(() => env.close());
  const dir = mkdtempSync(join(tmpdir(), "updraft-pilot-hb-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const alice = env.client("alice");
  const cluster = await submit(alice, [
    job({
      TransferExecutable: "false",
      Cmd: '"/bin/sleep"',
      Arguments: '"3"',
      RequestMemory: "64",
    }),
  ]);
  const pilot = env.client("pilot");
  const source = scheddSource(env.schedd.url(), pilot);
  const heartbeat = source.heartbeat.bind(source);
  let beats = 0;
  source.heartbeat = (lease) => {
    beats++;
    return heartbeat(lease);
  };
  const now = Date.now();
  const result = await within(
    runPilot({
      clock: systemClock,
      plan: planLifetime({ maxWalltimeS: 600, maxIdleS: 1 }, now, () => 0),
      identity: { pilotId: "pilot-hb", host: "wn01" },
      resources: { cpus: 1, memoryMb: 1000, diskKb: 1_000_000, gpus: 0 },
      nodeAttrs: { OpSys: "LINUX", Arch: "X86_64" },
      published: {},
      workDir: join(dir, "work"),
      sources: [source],
      advertiser: { advertise: async () => {}, invalidate: async () => {} },
      heartbeat: { floorMs: 100 },
      claimRetryMs: 200,
    }),
    "pilot run",
  );
  assert.equal(result.jobs[0]?.disposition, "completed");
  assert.ok(beats >= 3, `heartbeats: ${beats}`);
  const [ad] = await alice.query({ ids: [`${cluster}.0`], history: true });
  assert.equal(ad!.JobStatus, "4", "completed, never requeued by a lapse");
  assert.equal(ad!.NumJobStarts, "1");
  assert.equal(ad!.ExitCode, "0");
});

test("a job matched as a periodic check fails goes back to the queue at once and the pilot starts nothing", async (t) => {
  const env = await startEnv();
  t.after(() => env.close());
  const dir = mkdtempSync(join(tmpdir(), "updraft-pilot-psfail-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const alice = env.client("alice");
  const cluster = await submit(alice, [
    job({ TransferExecutable: "false", Cmd: '"/bin/true"', RequestMemory: "64" }),
  ]);
  // The periodic scripts' verdict, turned to failing by the test while the claim is at the
  // schedd (the claim was made with a slot ad from before), as a script run could at any time.
  let ok = true;
  let changed = () => {};
  const source = scheddSource(env.schedd.url(), env.client("pilot"));
  const claim = source.claim.bind(source);
  let claims = 0;
  source.claim = async (ad, wait, slotNumber) => {
    const lease = await claim(ad, wait, slotNumber);
    if (lease) claims++;
    ok = false;
    changed();
    return lease;
  };
  const terminate = new AbortController();
  const run = runPilot({
    clock: systemClock,
    plan: planLifetime({ maxWalltimeS: 600, maxIdleS: 600 }, Date.now(), () => 0),
    identity: { pilotId: "pilot-psfail", host: "wn01" },
    resources: { cpus: 1, memoryMb: 1000, diskKb: 1_000_000, gpus: 0 },
    nodeAttrs: { OpSys: "LINUX", Arch: "X86_64" },
    published: {},
    workDir: join(dir, "work"),
    sources: [source],
    advertiser: { advertise: async () => {}, invalidate: async () => {} },
    terminate: terminate.signal,
    claimRetryMs: 200,
    periodicChecks: (onChange) => {
      changed = onChange;
      return { ok: () => ok, attrs: () => ({ GLIDEIN_PS_OK: ok }), stop: () => {} };
    },
  });
  t.after(() => terminate.abort());
  await until("the job to be matched", async () => claims > 0);
  // Its lease would last 20 minutes; released, the job is Idle again now.
  await until("the job to be Idle again", async () => {
    const [j] = await alice.query({ ids: [`${cluster}.0`] });
    return j?.JobStatus === "1" && j.VacateReason === JSON.stringify(PERIODIC_CHECK_FAILED);
  });
  terminate.abort();
  const result = await within(run, "pilot run");
  assert.deepEqual(result.jobs, [], "the pilot started no job");
  assert.equal(claims, 1, "and claimed no other while the check failed");
});
