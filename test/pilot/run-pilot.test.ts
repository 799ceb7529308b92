import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import type { ClassAd } from "../../src/classad/index.js";
import { PilotSlotIndex } from "../../src/collector/pilot-slots.js";
import { ManualClock, systemClock } from "../../src/common/clock.js";
import { planLifetime, type LifetimeSettings } from "../../src/pilot/lifetime.js";
import { runPilot, type PilotDeps } from "../../src/pilot/run-pilot.js";
import {
  InMemoryAdvertiserDouble,
  InMemoryJobSourceDouble,
} from "./doubles/in-memory-job-source.js";
import { SimulatedRunnerDouble } from "./doubles/simulated-runner.js";

const root = mkdtempSync(join(tmpdir(), "updraft-pilot-loop-"));
after(() => rmSync(root, { recursive: true, force: true }));

const NODE = { OpSys: "LINUX", OpSysAndVer: "AlmaLinux9", Arch: "X86_64" };
const JOB = (extra = "") =>
  `[ Owner = "alice"; Cmd = "/bin/true"; TransferExecutable = false; RequestCpus = 1; RequestMemory = 100; ${extra} ` +
  "Requirements = TARGET.Cpus >= RequestCpus && TARGET.Memory >= RequestMemory ]";

function simulated(settings: LifetimeSettings, extra: Partial<PilotDeps> = {}) {
  const clock = new ManualClock();
  const sim = new SimulatedRunnerDouble(clock);
  const source = new InMemoryJobSourceDouble();
  const advertiser = new InMemoryAdvertiserDouble();
  const deps: PilotDeps = {
    clock,
    plan: planLifetime(settings, clock.now(), () => 0),
    identity: { pilotId: "p1", host: "wn01" },
    resources: { cpus: 4, memoryMb: 8000, diskKb: 1_000_000, gpus: 0 },
    nodeAttrs: NODE,
    published: { GLIDEIN_Site: "Test" },
    workDir: mkdtempSync(join(root, "sim-")),
    sources: [source],
    advertiser,
    sleep: sim.sleep,
    runJob: sim.run,
    heartbeatEveryMs: 30_000,
    advertiseEveryMs: 60_000,
    claimRetryMs: 10_000,
    ...extra,
  };
  return { clock, sim, source, advertiser, deps, start: clock.now() };
}

test("idle pilot exits after GLIDEIN_Max_Idle and invalidates its ad", async () => {
  const t = simulated({ maxWalltimeS: 4 * 3600, maxIdleS: 1200 });
  const r = await runPilot(t.deps);
  assert.equal(r.reason, "idle");
  assert.equal(t.clock.now() - t.start, 1200_000);
  assert.equal(r.idleS, 1200);
  assert.deepEqual(t.advertiser.invalidated, ["slot1@p1@wn01"]);
  assert.equal(t.advertiser.ads[0]?.evaluate("State"), "Unclaimed");
});

test("jobs run concurrently within the slot's resources", async () => {
  const t = simulated({ maxWalltimeS: 4 * 3600, maxIdleS: 600 });
  for (let i = 0; i < 6; i++) t.source.submit(JOB("RequestCpus = 2;"));
  t.source.submit(JOB("RequestCpus = 8;")); // never fits a 4-CPU pilot
  const r = await runPilot(t.deps);
  assert.equal(t.source.maxConcurrent, 2);
  assert.equal(r.jobs.filter((j) => j.disposition === "completed").length, 6);
  assert.equal(r.reason, "idle");
  // Three waves of two 60 s jobs, then the idle limit.
  assert.equal(t.clock.now() - t.start, (180 + 600) * 1000);
  assert.equal(r.idleS, 600);
  const busy = t.advertiser.ads.find((a) => a.evaluate("Cpus") === 0);
  assert.ok(busy, "an ad showed the slot fully used");
  assert.equal(busy.evaluate("TotalCpus"), 4);
});

test("each running job has a dynamic slot ad, withdrawn when the job ends", async () => {
  const t = simulated({ maxWalltimeS: 4 * 3600, maxIdleS: 600 });
  t.sim.durations.set("1.0", 60);
  t.sim.durations.set("2.0", 200);
  t.source.submit(JOB("RequestCpus = 2;"));
  t.source.submit(JOB("RequestCpus = 1;"));
  const r = await runPilot(t.deps);
  assert.equal(r.jobs.length, 2);
  const names = (i: number) => t.advertiser.dynamic[i]!.map((d) => d.evaluate("Name"));
  const both = t.advertiser.ads.findIndex((a) => a.evaluate("NumDynamicSlots") === 2);
  assert.ok(both >= 0, "an update carried both jobs");
  assert.deepEqual(names(both), ["slot1_1@p1@wn01", "slot1_2@p1@wn01"]);
  const [d1, d2] = t.advertiser.dynamic[both]!;
  assert.equal(d1!.evaluate("JobId"), "1.0");
  assert.equal(d1!.evaluate("Cpus"), 2);
  assert.equal(d2!.evaluate("JobId"), "2.0");
  assert.equal(d2!.evaluate("RemoteOwner"), "alice");
  assert.equal(t.advertiser.ads[both]!.evaluate("Cpus"), 1, "the parent shows what is left");
  // The first job's end withdraws its slot within a second; the second's follows at its end.
  assert.deepEqual(t.advertiser.invalidated, [
    "slot1_1@p1@wn01",
    "slot1_2@p1@wn01",
    "slot1@p1@wn01",
  ]);
  const one = t.advertiser.ads.findIndex((a, i) => i > both && a.evaluate("NumDynamicSlots") === 1);
  assert.deepEqual(names(one), ["slot1_2@p1@wn01"]);
});

test("after retirement no job starts; the pilot exits when drained", async () => {
  const t = simulated({ maxWalltimeS: 4 * 3600, retireTimeS: 100, maxIdleS: 1200 });
  t.sim.durations.set("1.0", 250);
  t.source.submit(JOB());
  const r = await runPilot(t.deps);
  assert.equal(r.reason, "retired");
  assert.equal(t.clock.now() - t.start, 250_000);
  assert.equal(r.jobs.length, 1);
  const retiredAd = t.advertiser.ads.find((a) => a.evaluate("Activity") === "Retiring");
  assert.equal(retiredAd?.evaluate("START"), false);
});

test("a job is started no later than retire and claims stop afterwards", async () => {
  const t = simulated({ maxWalltimeS: 4 * 3600, retireTimeS: 100 });
  t.source.submit(JOB());
  t.source.submit(JOB());
  t.deps.resources = { ...t.deps.resources, cpus: 1 };
  const r = await runPilot(t.deps);
  // The first runs 0-60 s, the second 60-120 s (started before retire), then drained.
  assert.deepEqual(
    r.jobs.map((j) => j.disposition),
    ["completed", "completed"],
  );
  assert.equal(r.reason, "retired");
});

test("GLIDEIN_Max_Tail: once the queue is drained the pilot leaves sooner", async () => {
  const t = simulated({ maxWalltimeS: 4 * 3600, maxIdleS: 1200, maxTailS: 100 });
  t.source.submit(JOB());
  const r = await runPilot(t.deps);
  assert.equal(r.reason, "tail");
  assert.equal(t.clock.now() - t.start, 160_000);
  assert.equal(r.jobs[0]?.disposition, "completed");
});

test("a job still running at retirement goes on until the graceful stop, then is released", async () => {
  const t = simulated({ maxWalltimeS: 3600, retireTimeS: 600, graceS: 300 });
  t.sim.durations.set("1.0", 7200);
  t.source.submit(JOB());
  const r = await runPilot(t.deps);
  assert.equal(r.reason, "walltime");
  assert.equal(t.clock.now() - t.start, 3300_000);
  assert.equal(r.jobs[0]?.disposition, "released");
  assert.equal(t.source.jobs.get("1.0")?.state, "idle", "back in the queue");
  assert.equal(t.source.jobs.get("1.0")?.inputTransferFailures, 0, "not an input failure");
  assert.ok(
    t.source.calls.includes("release 1.0 pilot reached its walltime (GLIDEIN_Max_Walltime)"),
    t.source.calls.join("\n"),
  );
});

test("inputs that do not arrive: the job goes back to the queue, runs later and completes once", async () => {
  const t = simulated({ maxWalltimeS: 4 * 3600, maxIdleS: 600 });
  t.source.failStageIns = 1;
  t.source.submit(JOB());
  const r = await runPilot(t.deps);
  assert.deepEqual(
    r.jobs.map((j) => j.disposition),
    ["released", "completed"],
  );
  const job = t.source.jobs.get("1.0")!;
  assert.equal(job.state, "done");
  assert.equal(job.releases, 1, "handed back once, not reported as a failed run");
  assert.equal(job.inputTransferFailures, 1, "flagged as an input failure for the schedd");
  assert.equal(job.outcome?.startError, undefined, "the completion is the real run's");
  assert.equal(t.source.calls.filter((c) => c.startsWith("complete")).length, 1);
  assert.ok(
    t.source.calls.some((c) =>
      c.startsWith("release 1.0 input transfer failed: schedd@test closed the input stream"),
    ),
    t.source.calls.join("\n"),
  );
});

test("before the hard walltime running jobs are stopped and released", async () => {
  const t = simulated({ maxWalltimeS: 3600, graceS: 300 });
  t.sim.durations.set("1.0", 7200);
  t.source.submit(JOB());
  const r = await runPilot(t.deps);
  assert.equal(r.reason, "walltime");
  assert.equal(t.clock.now() - t.start, 3300_000);
  assert.equal(r.jobs[0]?.disposition, "released");
  assert.equal(t.source.jobs.get("1.0")?.releases, 1);
});

test("SIGTERM: jobs stopped gracefully, leases released, pilot exits", async () => {
  const ac = new AbortController();
  const t = simulated({ maxWalltimeS: 4 * 3600 });
  t.sim.durations.set("1.0", 3600);
  t.sim.durations.set("2.0", 3600);
  t.source.submit(JOB());
  t.source.submit(JOB());
  const sleep = t.deps.sleep!;
  t.deps.terminate = ac.signal;
  t.deps.sleep = async (ms) => {
    await sleep(ms);
    if (t.clock.now() - t.start >= 120_000) ac.abort();
  };
  const r = await runPilot(t.deps);
  assert.equal(r.reason, "terminated");
  assert.deepEqual(
    r.jobs.map((j) => j.disposition),
    ["released", "released"],
  );
  assert.equal(t.source.idle(), 2);
  assert.deepEqual(
    t.source.calls.filter((c) => c.startsWith("release")),
    [
      "release 1.0 pilot terminated by its batch system (SIGTERM)",
      "release 2.0 pilot terminated by its batch system (SIGTERM)",
    ],
  );
  assert.deepEqual(
    [...t.advertiser.invalidated].sort(),
    ["slot1@p1@wn01", "slot1_1@p1@wn01", "slot1_2@p1@wn01"],
    "the jobs' dynamic slots and the partitionable slot are withdrawn",
  );
});

/** Seconds since start at which the pilot heartbeats (each try, reachable or not). */
function heartbeatTimes(t: ReturnType<typeof simulated>): number[] {
  const times: number[] = [];
  const heartbeat = t.source.heartbeat.bind(t.source);
  t.source.heartbeat = (lease) => {
    times.push((t.clock.now() - t.start) / 1000);
    return heartbeat(lease);
  };
  return times;
}

test("heartbeats follow the lease: a third of its remaining time, not a fixed period", async () => {
  const t = simulated({ maxWalltimeS: 4 * 3600, maxIdleS: 1 });
  t.source.leaseMs = 90_000;
  t.sim.durations.set("1.0", 200);
  t.source.submit(JOB());
  const times = heartbeatTimes(t);
  const r = await runPilot(t.deps);
  assert.equal(r.jobs[0]?.disposition, "completed");
  // Each renewal brings the lease back to 90 s, so the next comes 30 s later.
  assert.deepEqual(times, [30, 60, 90, 120, 150, 180]);

  const long = simulated({ maxWalltimeS: 4 * 3600, maxIdleS: 1 });
  long.source.leaseMs = 20 * 60_000;
  long.sim.durations.set("1.0", 1000);
  long.source.submit(JOB());
  const longTimes = heartbeatTimes(long);
  await runPilot(long.deps);
  assert.deepEqual(longTimes, [300, 600, 900], "a 20-minute lease: capped at 5 minutes");
});

test("an unreachable schedd is retried at a third of what the lease has left, down to the floor", async () => {
  const t = simulated({ maxWalltimeS: 4 * 3600, maxIdleS: 1 });
  t.source.leaseMs = 90_000;
  t.sim.durations.set("1.0", 100);
  t.source.submit(JOB());
  const times = heartbeatTimes(t);
  const sleep = t.deps.sleep!;
  t.deps.sleep = async (ms) => {
    await sleep(ms);
    t.source.unreachable = t.clock.now() - t.start >= 20_000;
  };
  const r = await runPilot(t.deps);
  assert.equal(r.jobs[0]?.disposition, "completed");
  // Lease ends at 90 s: tries at 30 (60 s left, next in 20), 50 (40 left), 63.3 (26.7 left),
  // then the 5 s floor.
  assert.deepEqual(
    times.map((s) => Math.round(s * 10) / 10),
    [30, 50, 63.3, 72.2, 78.1, 83.1, 88.1, 93.1, 98.1],
  );
});

test("a short lease is renewed at the floor; a schedd that does not say gets the fallback", async () => {
  const t = simulated({ maxWalltimeS: 4 * 3600, maxIdleS: 1 }, { heartbeat: { floorMs: 2_000 } });
  t.source.leaseMs = 3_000;
  t.sim.durations.set("1.0", 9);
  t.source.submit(JOB());
  const times = heartbeatTimes(t);
  await runPilot(t.deps);
  assert.deepEqual(times, [2, 4, 6, 8]);

  const silent = simulated({ maxWalltimeS: 4 * 3600, maxIdleS: 1 });
  silent.sim.durations.set("1.0", 100);
  silent.source.submit(JOB());
  const silentTimes = heartbeatTimes(silent);
  await runPilot(silent.deps);
  assert.deepEqual(silentTimes, [30, 60, 90], "heartbeatEveryMs when no lease length is known");
});

test("a job removed at the schedd is killed at the next heartbeat", async () => {
  const t = simulated({ maxWalltimeS: 4 * 3600, maxIdleS: 100 });
  t.sim.durations.set("1.0", 3600);
  t.source.submit(JOB());
  t.source.setVerdict("1.0", { action: "remove", reason: "via condor_rm (by user alice)" });
  const r = await runPilot(t.deps);
  assert.equal(r.jobs[0]?.disposition, "killed");
  assert.equal(t.source.jobs.get("1.0")?.outcome?.killed?.kind, "removed");
  assert.equal(r.jobs[0]?.wallS, 30, "killed at the first heartbeat");
});

test("hold and lost leases end the job; a held job keeps the schedd's reason", async () => {
  const t = simulated({ maxWalltimeS: 4 * 3600, maxIdleS: 100 });
  t.sim.durations.set("1.0", 3600);
  t.sim.durations.set("2.0", 3600);
  t.source.submit(JOB());
  t.source.submit(JOB());
  t.source.setVerdict("1.0", { action: "hold", reason: "periodic hold: too many restarts" });
  t.source.setVerdict("2.0", { action: "lost" });
  const r = await runPilot(t.deps);
  const byId = new Map(r.jobs.map((j) => [j.jobId, j]));
  assert.equal(byId.get("1.0")?.disposition, "killed");
  assert.deepEqual(t.source.jobs.get("1.0")?.outcome?.killed, {
    kind: "held",
    holdReason: "periodic hold: too many restarts",
  });
  assert.equal(byId.get("2.0")?.disposition, "killed");
  assert.ok(!t.source.calls.includes("complete 2.0"), "a lost lease is not reported");
});

test("an unreachable schedd: the job runs on and its outcome is delivered later", async () => {
  const t = simulated({ maxWalltimeS: 4 * 3600, maxIdleS: 1200 });
  t.sim.durations.set("1.0", 100);
  t.source.submit(JOB());
  const sleep = t.deps.sleep!;
  t.deps.sleep = async (ms) => {
    await sleep(ms);
    const at = t.clock.now() - t.start;
    t.source.unreachable = at >= 20_000 && at < 400_000;
  };
  const r = await runPilot(t.deps);
  assert.equal(r.jobs[0]?.disposition, "completed");
  assert.equal(t.source.jobs.get("1.0")?.state, "done");
  assert.ok(t.source.calls.filter((c) => c === "complete 1.0").length >= 2, "retried");
});

test("an outcome still undelivered at exit is retried before the pilot leaves", async () => {
  const t = simulated({ maxWalltimeS: 4 * 3600, maxIdleS: 100 });
  const other = new InMemoryJobSourceDouble("other@test");
  t.deps.sources = [t.source, other];
  t.source.submit(JOB());
  other.submit(JOB());
  const sleep = t.deps.sleep!;
  t.deps.sleep = async (ms) => {
    await sleep(ms);
    const at = t.clock.now() - t.start;
    t.source.unreachable = at >= 30_000 && at < 165_000;
  };
  const r = await runPilot(t.deps);
  assert.equal(r.reason, "idle");
  assert.equal(other.jobs.get("1.0")?.state, "done", "one schedd down delays no other");
  assert.equal(t.source.jobs.get("1.0")?.state, "done");
  assert.ok(t.clock.now() - t.start >= 165_000);
});

test("real processes: several jobs at once, inputs staged, sandboxes cleaned", async () => {
  const source = new InMemoryJobSourceDouble();
  const advertiser = new InMemoryAdvertiserDouble();
  for (let i = 0; i < 4; i++) {
    source.submit(
      '[ Cmd = "/bin/sh"; TransferExecutable = false; ' +
        'Arguments = "-c \'cat in.txt; sleep 0.3\'"; In = "/dev/null"; ' +
        'Out = "out"; RequestCpus = 1; RequestMemory = 50; Requirements = true ]',
      { "in.txt": `input ${i}\n` },
    );
  }
  const workDir = mkdtempSync(join(root, "real-"));
  const r = await runPilot({
    clock: systemClock,
    plan: planLifetime({ maxWalltimeS: 60, maxIdleS: 0.5, graceS: 5 }, Date.now(), () => 0),
    identity: { pilotId: "p2", host: "wn02" },
    resources: { cpus: 2, memoryMb: 1000, diskKb: 1000, gpus: 0 },
    nodeAttrs: NODE,
    published: {},
    workDir,
    sources: [new InMemoryJobSourceDouble("empty@test"), source],
    advertiser,
    claimRetryMs: 50,
    runnerOptions: { pollMs: 50 },
    keepSandboxes: true,
  });
  assert.equal(r.reason, "idle");
  assert.equal(source.maxConcurrent, 2);
  assert.deepEqual(
    r.jobs.map((j) => [j.disposition, j.exitCode]),
    Array(4).fill(["completed", 0]),
  );
  const outs = [1, 2, 3, 4].map((n) =>
    readFileSync(join(workDir, "execute", `dir_${n}`, "out"), "utf8"),
  );
  assert.deepEqual(outs.sort(), ["input 0\n", "input 1\n", "input 2\n", "input 3\n"]);
});

test("an ended job's dynamic slot is withdrawn before the next job's is sent, as a bound pilot's collector requires", async () => {
  // The collector's own bookkeeping: a bound pilot holds at most its CPUs + 1 Slot ads.
  const index = new PilotSlotIndex();
  const refused: string[] = [];
  const advertiser = new InMemoryAdvertiserDouble();
  const collector = {
    async advertise(ad: ClassAd, dynamic: readonly ClassAd[] = []): Promise<void> {
      await advertiser.advertise(ad, dynamic);
      for (const a of [ad, ...dynamic]) {
        const name = a.evaluate("Name") as string;
        const cpus = a.evaluate("TotalCpus");
        const total = typeof cpus === "number" ? cpus : undefined;
        const no = index.check("pilot-token", name, total);
        if (no) refused.push(`${name}: ${no.message}`);
        else index.added("pilot-token", name, total);
      }
      if (refused.length > 0) throw new Error(refused.join("; "));
    },
    async invalidate(name: string): Promise<void> {
      await advertiser.invalidate(name);
      index.removed("pilot-token", name);
    },
  };
  const t = simulated(
    { maxWalltimeS: 4 * 3600, maxIdleS: 600 },
    { advertiser: collector, resources: { cpus: 1, memoryMb: 8000, diskKb: 1_000_000, gpus: 0 } },
  );
  for (let i = 0; i < 3; i++) t.source.submit(JOB());
  const r = await runPilot(t.deps);
  assert.equal(r.jobs.filter((j) => j.disposition === "completed").length, 3);
  assert.deepEqual(refused, []);
  const sent = advertiser.dynamic.flat().map((d) => d.evaluate("Name"));
  for (const n of ["slot1_1@p1@wn01", "slot1_2@p1@wn01", "slot1_3@p1@wn01"]) {
    assert.ok(sent.includes(n), `${n} was advertised`);
  }
});

test("a refused or failed advertisement is tried again after a short backoff that grows, not a whole interval later", async () => {
  const t = simulated({ maxWalltimeS: 4 * 3600, maxIdleS: 120 });
  const tries: number[] = [];
  let refusals = 4;
  t.deps.advertiser = {
    advertise: async (ad, dynamic) => {
      tries.push((t.clock.now() - t.start) / 1000);
      if (refusals-- > 0) throw new Error("collector refused the slot ad: over-limit");
      await t.advertiser.advertise(ad, dynamic);
    },
    invalidate: (name) => t.advertiser.invalidate(name),
  };
  const r = await runPilot(t.deps);
  assert.equal(r.reason, "idle");
  // 1, 2, 4 and 8 s apart (the backoff doubles with each failure), taken at the fifth; then
  // the periodic 60 s refresh again.
  assert.deepEqual(tries.slice(0, 5), [0, 1, 3, 7, 15]);
  assert.equal(tries[5], 75, "once taken, the next one comes a full interval later");
  assert.equal(t.advertiser.ads.length, tries.length - 4);
});

test("an advertisement that keeps failing is retried at most every 30 s, and never later than the periodic interval", async () => {
  const t = simulated({ maxWalltimeS: 4 * 3600, maxIdleS: 300 });
  const tries: number[] = [];
  t.deps.advertiser = {
    advertise: async () => {
      tries.push((t.clock.now() - t.start) / 1000);
      throw new Error("collector unreachable");
    },
    invalidate: async () => {},
  };
  await runPilot(t.deps);
  const gaps = tries.slice(1).map((x, i) => x - tries[i]!);
  assert.deepEqual(gaps.slice(0, 7), [1, 2, 4, 8, 16, 30, 30]);
  assert.ok(Math.max(...gaps) <= 30, `gaps: ${gaps.join(", ")}`);
});

test("the first claim does not wait for the first slot ad, and later ads still follow it in order", async () => {
  const t = simulated({ maxWalltimeS: 4 * 3600, maxIdleS: 600 });
  t.source.submit(JOB());
  // The first ad is held at the collector until a claim is made (or, failing that, 5 s pass).
  let releasedBy = "";
  let release!: (by: string) => void;
  const held = new Promise<void>((r) => (release = (by) => ((releasedBy ||= by), r())));
  const backstop = setTimeout(() => release("timer"), 5000);
  const send = t.advertiser.advertise.bind(t.advertiser);
  let first = true;
  t.advertiser.advertise = async (ad, dynamic) => {
    if (first) {
      first = false;
      await held;
    }
    return send(ad, dynamic);
  };
  const claim = t.source.claim.bind(t.source);
  t.source.claim = async (ad) => {
    release("claim");
    return claim(ad);
  };
  const r = await runPilot(t.deps);
  clearTimeout(backstop);
  assert.equal(releasedBy, "claim", "the pilot waited for its first ad before claiming");
  assert.equal(r.jobs.length, 1);
  const cpus = t.advertiser.ads.map((a) => a.evaluate("Cpus"));
  assert.equal(cpus[0], 4, "the first ad (from before the claim) reached the collector first");
  assert.ok(cpus.includes(3), "an ad showed the running job");
  assert.equal(t.advertiser.invalidated.at(-1), "slot1@p1@wn01", "the slot withdrawn last");
});
