import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { ManualClock } from "../../src/common/clock.js";
import { createBlackHoleDetector } from "../../src/pilot/black-hole.js";
import { planLifetime } from "../../src/pilot/lifetime.js";
import { runPilot, type PilotDeps } from "../../src/pilot/run-pilot.js";
import { resolveSettings } from "../../src/pilot/settings.js";
import {
  InMemoryAdvertiserDouble,
  InMemoryJobSourceDouble,
} from "./doubles/in-memory-job-source.js";
import { SimulatedRunnerDouble } from "./doubles/simulated-runner.js";

const root = mkdtempSync(join(tmpdir(), "updraft-blackhole-"));
after(() => rmSync(root, { recursive: true, force: true }));

const window = { windowMs: 1200_000 };

test("trips when NUMJOBS jobs ended within the window averaging under 1/RATE seconds, and stays tripped", () => {
  const d = createBlackHoleDetector({ numJobs: 3, rate: 0.5, ...window }); // mean < 2 s trips
  d.jobEnded(0, 1000);
  d.jobEnded(1000, 2000);
  assert.equal(d.tripped, undefined, "two jobs are not enough");
  d.jobEnded(2000, 3000);
  assert.match(d.tripped ?? "", /^3 jobs ended within 1200 s, 1\.0 s on average/);
  d.jobEnded(3000, 900_000);
  assert.match(d.tripped ?? "", /^3 jobs/, "latched, as STARTD_LATCH_EXPRS");
});

test("long jobs, or short ones spread beyond the window, do not trip it; rate 0 turns it off", () => {
  const slow = createBlackHoleDetector({ numJobs: 3, rate: 0.5, ...window });
  for (let i = 0; i < 10; i++) slow.jobEnded(i * 10_000, i * 10_000 + 5000);
  assert.equal(slow.tripped, undefined, "5 s jobs are above 1/0.5 s");
  const spread = createBlackHoleDetector({ numJobs: 3, rate: 0.5, ...window });
  for (let i = 0; i < 10; i++) spread.jobEnded(i * 700_000, i * 700_000 + 100);
  assert.equal(spread.tripped, undefined, "never three within 20 minutes");
  const off = createBlackHoleDetector({ numJobs: 1, rate: 0, ...window });
  for (let i = 0; i < 10; i++) off.jobEnded(i, i);
  assert.equal(off.tripped, undefined);
});

test("the glideinWMS variables (or options) turn detection on; a rate of 0 or none leaves it off", () => {
  const on = resolveSettings(
    {},
    { GLIDEIN_BLACKHOLE_NUMJOBS: "4", GLIDEIN_BLACKHOLE_RATE: "0.2" },
    () => "p",
  );
  assert.ok(on.ok);
  assert.deepEqual(on.settings.blackHole, { numJobs: 4, rate: 0.2, windowMs: 1200_000 });
  const cli = resolveSettings({ blackholeRate: 1 }, { GLIDEIN_BLACKHOLE_RATE: "0" }, () => "p");
  assert.ok(cli.ok);
  assert.equal(cli.settings.blackHole?.rate, 1, "the option wins over the environment");
  const off = resolveSettings(
    {},
    { GLIDEIN_BLACKHOLE_NUMJOBS: "4", GLIDEIN_BLACKHOLE_RATE: "0" },
    () => "p",
  );
  assert.ok(off.ok);
  assert.equal(off.settings.blackHole, undefined);
  const bad = resolveSettings({}, { GLIDEIN_BLACKHOLE_RATE: "fast" }, () => "p");
  assert.equal(bad.ok, false);
});

test("a pilot whose jobs keep ending within seconds takes no more, says why in its slot ad, and ends as a black hole", async () => {
  const clock = new ManualClock();
  const sim = new SimulatedRunnerDouble(clock, 1);
  const source = new InMemoryJobSourceDouble();
  const advertiser = new InMemoryAdvertiserDouble();
  for (let i = 0; i < 20; i++) {
    source.submit(
      '[ Owner = "alice"; Cmd = "/bin/false"; TransferExecutable = false; RequestCpus = 1; ' +
        "RequestMemory = 100; Requirements = TARGET.Cpus >= RequestCpus ]",
    );
  }
  const deps: PilotDeps = {
    clock,
    plan: planLifetime({ maxWalltimeS: 4 * 3600, maxIdleS: 1200 }, clock.now(), () => 0),
    identity: { pilotId: "p1", host: "wn01" },
    resources: { cpus: 2, memoryMb: 8000, diskKb: 1_000_000, gpus: 0 },
    nodeAttrs: { OpSys: "LINUX" },
    published: {},
    workDir: mkdtempSync(join(root, "sim-")),
    sources: [source],
    advertiser,
    sleep: sim.sleep,
    runJob: sim.run,
    claimRetryMs: 10_000,
    blackHole: { numJobs: 5, rate: 0.2, windowMs: 1200_000 }, // mean < 5 s trips
  };
  const r = await runPilot(deps);
  assert.equal(r.reason, "blackhole");
  assert.match(r.blackHole ?? "", /^5 jobs ended within 1200 s, 1\.0 s on average/);
  const ran = r.jobs.filter((j) => j.disposition === "completed").length;
  assert.ok(ran >= 5 && ran <= 6, `the running job may finish, nothing more starts (${ran})`);
  assert.equal(source.idle(), 20 - ran, "the rest stays in the queue for healthy nodes");
  const first = advertiser.ads[0]!;
  assert.equal(first.evaluate("GLIDEIN_BLACKHOLE"), false);
  const holed = advertiser.ads.find((a) => a.evaluate("GLIDEIN_BLACKHOLE") === true);
  assert.ok(holed, "a slot ad said so while the pilot drained");
  assert.equal(holed.evaluate("START"), false);
  assert.match(String(holed.evaluate("GLIDEIN_BLACKHOLE_REASON")), /GLIDEIN_BLACKHOLE_RATE 0\.2/);
  const withdrawn = advertiser.invalidated;
  assert.equal(withdrawn.at(-1), "slot1@p1@wn01", "the partitionable slot leaves last");
  const children = withdrawn.slice(0, -1);
  assert.ok(
    children.every((n) => /^slot1_\d+@p1@wn01$/.test(n)),
    `before it, only ended jobs' dynamic slots: ${children.join(", ")}`,
  );
});
