import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { ManualClock } from "../../src/common/clock.js";
import { judge, planLifetime } from "../../src/pilot/lifetime.js";
import {
  drainForShutdown,
  parseShutdownTime,
  readShutdownMs,
} from "../../src/pilot/machine-features.js";
import { runPilot } from "../../src/pilot/run-pilot.js";
import { resolveSettings } from "../../src/pilot/settings.js";
import {
  InMemoryAdvertiserDouble,
  InMemoryJobSourceDouble,
} from "./doubles/in-memory-job-source.js";
import { SimulatedRunnerDouble } from "./doubles/simulated-runner.js";

const root = mkdtempSync(join(tmpdir(), "updraft-mjf-"));
after(() => rmSync(root, { recursive: true, force: true }));

test("shutdown times are read from both files, the earliest wins, and anything odd is ignored", () => {
  const mf = join(root, "machine");
  const jf = join(root, "job");
  mkdirSync(mf);
  mkdirSync(jf);
  const env = { MACHINEFEATURES: mf, JOBFEATURES: jf };
  assert.equal(readShutdownMs(env), undefined, "no files: no shutdown");
  writeFileSync(join(mf, "shutdowntime"), "1767229200\n");
  assert.equal(readShutdownMs(env), 1767229200_000);
  writeFileSync(join(jf, "shutdowntime_job"), "1767225600");
  assert.equal(readShutdownMs(env), 1767225600_000, "the job slot goes first");
  for (const bad of ["", "soon", "-5", "1e9", "12 34", "9".repeat(40), "0x10"]) {
    assert.equal(parseShutdownTime(bad), undefined, JSON.stringify(bad));
  }
  writeFileSync(join(jf, "shutdowntime_job"), "x".repeat(1 << 20));
  assert.equal(readShutdownMs(env), 1767229200_000, "a garbage file does not hide the other");
  rmSync(join(jf, "shutdowntime_job"));
  symlinkSync("/dev/zero", join(jf, "shutdowntime_job"));
  assert.equal(
    readShutdownMs(env),
    1767229200_000,
    "an endless file is read no further than needed",
  );
  assert.equal(readShutdownMs({}), undefined);
  const s = resolveSettings({}, env, () => "p");
  assert.ok(s.ok);
  assert.deepEqual(s.settings.features, env);
});

test("an announced shutdown retires the pilot now and stops jobs a grace before it", () => {
  const plan = planLifetime({ maxWalltimeS: 10_000, graceS: 100 }, 0, () => 0);
  const drained = drainForShutdown(plan, 5_000_000, 1_000_000, 100_000);
  assert.deepEqual(
    [drained.retireAtMs, drained.stopJobsAtMs, drained.dieAtMs, drained.dieReason],
    [1_000_000, 4_900_000, 5_000_000, "shutdown"],
  );
  assert.equal(
    drainForShutdown(plan, 20_000_000, 0, 100_000),
    plan,
    "after our own end: no change",
  );
  const soon = drainForShutdown(plan, 1_050_000, 1_000_000, 100_000);
  assert.equal(soon.stopJobsAtMs, 1_000_000, "less than the grace left: stop jobs now");
  const idle = judge(drained, { nowMs: 1_000_000, runningJobs: 0 });
  assert.equal(idle.exit, "shutdown");
  const busy = judge(drained, { nowMs: 1_000_000, runningJobs: 1 });
  assert.deepEqual([busy.mayStartJobs, busy.stopJobs, busy.exit], [false, false, undefined]);
});

test("a pilot draining for an announced shutdown claims nothing more and hands its running job back before it", async () => {
  const clock = new ManualClock();
  const start = clock.now();
  const sim = new SimulatedRunnerDouble(clock);
  const source = new InMemoryJobSourceDouble();
  const advertiser = new InMemoryAdvertiserDouble();
  sim.durations.set("1.0", 3600);
  const job =
    '[ Owner = "alice"; Cmd = "/bin/true"; TransferExecutable = false; RequestCpus = 1; ' +
    "RequestMemory = 100; Requirements = TARGET.Cpus >= RequestCpus ]";
  source.submit(job);
  const mf = mkdtempSync(join(root, "mf-"));
  // The site announces, 10 minutes in, that the node goes down at 30 minutes.
  const announce = () => {
    if (clock.now() - start >= 600_000) {
      writeFileSync(join(mf, "shutdowntime"), String((start + 1800_000) / 1000));
    }
    return readShutdownMs({ MACHINEFEATURES: mf });
  };
  let submittedLater = false;
  const r = await runPilot({
    clock,
    plan: planLifetime({ maxWalltimeS: 4 * 3600, graceS: 120 }, start, () => 0),
    identity: { pilotId: "p1", host: "wn01" },
    resources: { cpus: 1, memoryMb: 8000, diskKb: 1_000_000, gpus: 0 },
    nodeAttrs: { OpSys: "LINUX" },
    published: {},
    workDir: mkdtempSync(join(root, "sim-")),
    sources: [source],
    advertiser,
    sleep: async (ms) => {
      await sim.sleep(ms);
      if (!submittedLater && clock.now() - start >= 900_000) {
        submittedLater = true;
        source.submit(job); // arrives while draining: must stay queued
      }
    },
    runJob: sim.run,
    claimRetryMs: 10_000,
    shutdownTime: announce,
  });
  assert.equal(r.reason, "shutdown");
  assert.deepEqual(
    r.jobs.map((j) => j.disposition),
    ["released"],
  );
  assert.deepEqual(
    source.calls.filter((c) => c.startsWith("release")),
    ["release 1.0 worker node shutting down (Machine/Job Features shutdowntime)"],
  );
  assert.equal(source.idle(), 2, "both jobs are in the queue for other nodes");
  const stoppedAt = clock.now() - start;
  assert.ok(
    stoppedAt <= 1800_000 - 120_000 + 60_000,
    `released before the shutdown (${stoppedAt})`,
  );
  const draining = advertiser.ads.find((a) => a.evaluate("START") === false);
  assert.ok(draining, "the slot ad said it takes nothing");
  assert.equal(draining.evaluate("GLIDEIN_ToDie"), (start + 1800_000) / 1000);
});
