/**
 * A pilot whose pool goes away under it (a real collector, then a real schedd, stopped while its
 * jobs run) leaves without holding any call to its deadline: it does not call peers whose
 * connection is known to be down, and leaves their ads to expire. Counted in calls, not seconds.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { connectReal } from "../../src/pilot/connect.js";
import type { JobSource, SlotAdvertiser } from "../../src/pilot/interfaces.js";
import { type ConnectFn, runPilotProcess } from "../../src/pilot/pilot-main.js";
import { resolveSettings } from "../../src/pilot/settings.js";
import { adminReader, startTestCollector } from "../helpers/pilot-collector.js";
import { DN, job, startEnv, submit, type TestEnv } from "../schedd/harness.js";
import { createNodeFixture } from "./node-fixture.js";
import { hangGuard } from "../helpers/hang-guard.js";
import { pilotCredentialFile } from "./pilot-credential.js";

/** Hang guard only: with a call held to its deadline per ended job, the pilot takes far longer. */
const GUARD_MS = 60_000;

const within = hangGuard(GUARD_MS);

interface Call {
  peer: "collector" | "schedd";
  what: string;
  /** Made after the test stopped that peer. */
  afterStop: boolean;
  /** The error code it ended with, or "" when it was answered. */
  ended?: string;
}

/** The real connections, with every call the pilot makes through them written down. */
function countingConnect(calls: Call[], stopped: Set<Call["peer"]>): ConnectFn {
  const noted = async <T>(peer: Call["peer"], what: string, p: () => Promise<T>) => {
    const call: Call = { peer, what, afterStop: stopped.has(peer) };
    calls.push(call);
    try {
      const out = await p();
      call.ended = "";
      return out;
    } catch (err) {
      call.ended = (err as { code?: string }).code ?? String(err);
      throw err;
    }
  };
  return async (s, log) => {
    const conn = await connectReal(s, log);
    const a = conn.advertiser;
    const advertiser: SlotAdvertiser = {
      advertise: (ad, dyn) => noted("collector", "advertise", () => a.advertise(ad, dyn)),
      invalidate: (name, o) =>
        noted("collector", `invalidate ${name}`, () => a.invalidate(name, o)),
      ...(a.reachable ? { reachable: () => a.reachable!() } : {}),
    };
    const sources = conn.sources.map((src): JobSource => ({
      ...src,
      claim: (ad, w, n) => noted("schedd", "claim", () => src.claim(ad, w, n)),
      heartbeat: (l) => noted("schedd", "heartbeat", () => src.heartbeat(l)),
      complete: (l, o, d) => noted("schedd", "complete", () => src.complete(l, o, d)),
      release: (l, r, o) => noted("schedd", "release", () => src.release(l, r, o)),
    }));
    return { ...conn, advertiser, sources };
  };
}

async function startPool(t: { after(fn: () => unknown): void }) {
  const env = await startEnv();
  t.after(() => env.close().catch(() => {}));
  const collector = await startTestCollector(env.pki, [
    { identity: DN.pilot, roles: ["pilot", "read"] },
    { identity: DN.admin, roles: ["admin", "read"] },
  ]);
  t.after(() => collector.stop().catch(() => {}));
  return { env, collector, reader: adminReader(collector, env, t) };
}

function pilotSettings(env: TestEnv, collectorUrl: string, pilotId: string, maxIdle: number) {
  const dir = mkdtempSync(join(tmpdir(), "updraft-pool-gone-"));
  const credentialFile = pilotCredentialFile(env, dir);
  const r = resolveSettings(
    {
      pilotId,
      workDir: join(dir, "work"),
      collector: collectorUrl,
      schedd: [env.schedd.url()],
      credential: credentialFile,
      trustDir: env.pki.caDir,
      maxWalltime: 3600,
      maxIdle,
      grace: 5,
    },
    {},
    () => "unused",
  );
  assert.ok(r.ok, JSON.stringify(r));
  return { settings: r.settings, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

const sleepJob = (s: number) =>
  job({
    TransferExecutable: "false",
    Cmd: '"/bin/sleep"',
    Arguments: `"${s}"`,
    RequestMemory: "64",
  });

/**
 * A stopped daemon's clients learn of it from their socket's close, a moment after the daemon's
 * stop returns; a call made within that moment cannot know.
 */
const connectionsSee = () => new Promise((res) => setTimeout(res, 300));

/** Waits until the collector shows `n` dynamic slots of the pilot. */
async function childrenShown(reader: ReturnType<typeof adminReader>, pilotId: string, n: number) {
  const end = Date.now() + 40_000;
  for (;;) {
    const ads = await reader.query({ type: "Slot" });
    const kids = ads.filter((a) => new RegExp(`^"slot1_\\d+@${pilotId}@`).test(a.Name ?? ""));
    if (kids.length >= n) return;
    if (Date.now() > end) throw new Error(`never saw ${n} dynamic slots: ${kids.length}`);
    await new Promise((res) => setTimeout(res, 100));
  }
}

test("a pilot whose collector stops while its jobs run calls it no more, and leaves at its idle limit with every outcome at the schedd", async (t) => {
  const { env, collector, reader } = await startPool(t);
  const alice = env.client("alice");
  const cluster = await submit(alice, [sleepJob(4), sleepJob(4), sleepJob(4)]);
  const node = createNodeFixture();
  t.after(() => node.cleanup());
  const p = pilotSettings(env, collector.url, "pilot-nocollector", 2);
  t.after(p.cleanup);
  const calls: Call[] = [];
  const stopped = new Set<Call["peer"]>();
  let output = "";
  const run = runPilotProcess(p.settings, {
    view: node.view(),
    write: (text) => (output += text),
    connect: countingConnect(calls, stopped),
  });
  await childrenShown(reader, "pilot-nocollector", 3);
  await collector.stop();
  await connectionsSee();
  stopped.add("collector");

  assert.equal(await within(run, "pilot run"), 0, output);
  const jobs = await alice.query({ ids: [0, 1, 2].map((i) => `${cluster}.${i}`), history: true });
  assert.deepEqual(
    jobs.map((j) => j.JobStatus),
    ["4", "4", "4"],
    "each job's outcome reached the schedd",
  );
  const before = calls.filter((c) => c.peer === "collector" && !c.afterStop);
  assert.ok(
    before.some((c) => c.what === "advertise" && c.ended === ""),
    "the slot was advertised while the collector ran",
  );
  // Three ended jobs' dynamic slots and the slot itself were left to withdraw: the pilot knew
  // the collector was gone and made none of those calls (each would have waited its deadline).
  assert.deepEqual(
    calls.filter((c) => c.peer === "collector" && c.afterStop),
    [],
    "no collector call after it stopped",
  );
  assert.deepEqual(
    calls.filter((c) => c.ended === "deadline-exceeded"),
    [],
    "no call was held to its deadline",
  );
});

test("on SIGTERM with its whole pool gone, a pilot stops its jobs and leaves without calling the dead collector or schedd", async (t) => {
  const { env, collector, reader } = await startPool(t);
  const alice = env.client("alice");
  await submit(alice, [sleepJob(120), sleepJob(120)]);
  const node = createNodeFixture();
  t.after(() => node.cleanup());
  const p = pilotSettings(env, collector.url, "pilot-poolgone", 600);
  t.after(p.cleanup);
  const calls: Call[] = [];
  const stopped = new Set<Call["peer"]>();
  const terminate = new AbortController();
  let output = "";
  const run = runPilotProcess(p.settings, {
    view: node.view(),
    write: (text) => (output += text),
    connect: countingConnect(calls, stopped),
    terminate: terminate.signal,
  });
  await childrenShown(reader, "pilot-poolgone", 2);
  await collector.stop();
  await connectionsSee();
  stopped.add("collector");
  await env.schedd.close();
  await connectionsSee();
  stopped.add("schedd");
  terminate.abort();

  assert.equal(await within(run, "pilot run"), 0, output);
  const report = JSON.parse(
    readFileSync(join(p.settings.workDir, "pilot-report.json"), "utf8"),
  ) as { jobs: unknown[] };
  assert.equal(report.jobs.length, 2, "both jobs ran and were stopped");
  // The jobs' releases and the slot's withdrawals were due; with both peers down none was made.
  const late = calls.filter((c) => c.afterStop);
  assert.deepEqual(late, [], "no call to a peer after it stopped");
  assert.deepEqual(
    calls.filter((c) => c.ended === "deadline-exceeded"),
    [],
    "no call was held to its deadline",
  );
});
