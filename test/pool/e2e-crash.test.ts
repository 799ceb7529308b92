/**
 * Crashes on the demo pool: the schedd, the factory, a pilot and the collector are each killed
 * with SIGKILL while work runs, and the pool is held to what HTCondor and glideinWMS promise
 * after such a crash: every job completes exactly once, the factory finds its pilots again and
 * keeps within its limits, a lost pilot's job runs again elsewhere, and the ads come back.
 *
 * The tests share one pool (leases of 15 s, so a lost pilot's job is requeued quickly) and run
 * in order; each waits for its own work, so what an earlier test left running does not matter.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { parentSlotName } from "../../src/ads/slot.js";
import { history, jobId, startTestPool, unquote, waitFor, type TestPool } from "./pool-harness.js";
import {
  alive,
  childPid,
  factoryBooks,
  factoryConfig,
  isLivePilot,
  killDaemon,
  logLines,
  pilotDirs,
} from "./pool-inspect.js";

const GUARD_MS = 120_000;
let tp: TestPool;

before(async () => {
  tp = await startTestPool({ leaseS: 15 });
});
after(async () => {
  await tp?.close();
});

const clusterConstraint = (clusters: readonly number[]) =>
  clusters.map((c) => `ClusterId == ${c}`).join(" || ");

/** Jobs of these clusters still in the queue (not in history). */
const queued = (clusters: readonly number[]) =>
  tp.clients.schedd.query({
    constraint: clusterConstraint(clusters),
    projection: ["ClusterId", "ProcId", "JobStatus", "RemoteHost"],
  });

/** Wait until `count` jobs of the clusters are in history, then check each completed once. */
async function assertEachCompletedOnce(clusters: readonly number[], count: number) {
  const done = await waitFor(
    `${count} jobs of clusters ${clusters.join(", ")} in history`,
    async () => {
      const h = await history(tp, clusters, [
        "JobStatus",
        "NumJobCompletions",
        "NumJobStarts",
        "ExitCode",
        "LastRemoteHost",
      ]);
      return h.length >= count ? h : undefined;
    },
    GUARD_MS,
  );
  assert.equal(done.length, count, "one history record per job");
  assert.equal(new Set(done.map(jobId)).size, count, "no job is in history twice");
  for (const j of done) {
    assert.equal(j.JobStatus, "4", `${jobId(j)} completed`);
    assert.equal(j.NumJobCompletions, "1", `${jobId(j)} completed exactly once`);
    assert.equal(j.ExitCode, "0", `${jobId(j)} exit code`);
  }
  assert.deepEqual(await queued(clusters), [], "nothing of these clusters left in the queue");
  return done;
}

/** Wait for the supervisor to have restarted `daemon` under a pid other than `oldPid`. */
async function restarted(daemon: "collector" | "schedd" | "factory", oldPid: number) {
  await waitFor(`the supervisor to notice ${daemon} died`, () =>
    tp.said.some((l) => l.startsWith(`${daemon} died (signal SIGKILL)`)),
  );
  return waitFor(`${daemon} to run again`, () => {
    const pid = tp.pool.supervisor.pid(daemon);
    return pid !== undefined && pid !== oldPid ? pid : undefined;
  });
}

test("SIGKILL of the schedd mid-run: every job still completes exactly once", async () => {
  const cluster = await tp.submit("hello.sub", 40, 2);
  // Mid-run: some jobs done, some holding leases, some still idle.
  await waitFor(
    "some jobs completed and some running",
    async () => {
      const [h, q] = await Promise.all([history(tp, [cluster]), queued([cluster])]);
      return h.length >= 3 && q.some((j) => j.JobStatus === "2");
    },
    GUARD_MS,
  );
  const old = killDaemon(tp, "schedd");
  await restarted("schedd", old);
  await assertEachCompletedOnce([cluster], 40);
});

test("SIGKILL of the factory mid-run: pilots are reattached, within limits, none orphaned", async () => {
  const cfg = factoryConfig(tp);
  const maxPerEntry = new Map(
    cfg.entries.map((e) => [e.name, e.limits.per_entry.max_glideins ?? Infinity]),
  );
  // The most pilots seen per entry, from the pilots' own folders and from the factory's ads.
  const seenDirs = new Map<string, number>();
  const seenAds = new Map<string, number>();
  const raise = (m: Map<string, number>, k: string, v: number) =>
    m.set(k, Math.max(m.get(k) ?? 0, v));
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const counts = new Map<string, number>();
      for (const p of pilotDirs(tp).filter(isLivePilot)) {
        counts.set(p.entry, (counts.get(p.entry) ?? 0) + 1);
      }
      for (const [e, n] of counts) raise(seenDirs, e, n);
      try {
        const ads = await tp.clients.collector.query({ type: "GlideFactoryClient" });
        const perEntry = new Map<string, number>();
        for (const a of ads) {
          const e = unquote(a.EntryName)!;
          perEntry.set(e, (perEntry.get(e) ?? 0) + Number(a.GlideinMonitorStatusTotal ?? 0));
        }
        for (const [e, n] of perEntry) raise(seenAds, e, n);
      } catch {
        // The collector may be busy; the folders were sampled anyway.
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  })();

  try {
    const reattachedBefore = logLines(tp, "factory", "re-attached to pilots").length;
    const cluster = await tp.submit("hello.sub", 40, 2);
    await waitFor(
      "live pilots and running jobs",
      async () => {
        const q = await queued([cluster]);
        return pilotDirs(tp).filter(isLivePilot).length >= 2 && q.some((j) => j.JobStatus === "2");
      },
      GUARD_MS,
    );
    const old = killDaemon(tp, "factory");
    await restarted("factory", old);

    // The new factory's own account of the re-attach: nothing lost, nothing unknown to it.
    const reattach = await waitFor("the restarted factory to re-attach", () => {
      const lines = logLines(tp, "factory", "re-attached to pilots");
      return lines.length > reattachedBefore ? lines.at(-1) : undefined;
    });
    assert.equal(reattach.lost, 0, "no pilot the factory knew went missing");
    assert.equal(reattach.orphansRemoved, 0, "no pilot was unknown to the factory's books");

    // And checked from outside: every pilot folder is in the books under its entry, with its
    // handle once the submit is recorded, and every live pilot is live in the books.
    const checkBooks = () => {
      const books = new Map(factoryBooks(tp).map((r) => [r.id, r]));
      for (const p of pilotDirs(tp)) {
        const row = p.intentId === undefined ? undefined : books.get(p.intentId);
        assert.ok(row, `pilot ${p.entry}/${p.handle} is in the factory's books`);
        assert.equal(row.entry, p.entry, `pilot ${p.handle} is booked under its entry`);
        if (row.handle !== null) assert.equal(row.handle, p.handle, `pilot ${row.id}'s handle`);
        if (isLivePilot(p) && row.handle !== null) {
          assert.match(
            row.state,
            /^(Idle|Running|Held)$/,
            `live pilot ${p.handle} is live in the books`,
          );
        }
      }
    };
    const cyclesBefore = logLines(tp, "factory", "cycle done").length;
    await waitFor("a factory cycle after the restart", () => {
      return logLines(tp, "factory", "cycle done").length > cyclesBefore;
    });
    checkBooks();

    await assertEachCompletedOnce([cluster], 40);
    checkBooks();
  } finally {
    sampling = false;
    await sampler;
  }
  assert.ok(seenDirs.size > 0, "pilots were seen while the jobs ran");
  for (const [entry, n] of seenDirs) {
    assert.ok(
      n <= maxPerEntry.get(entry)!,
      `${entry}: ${n} live pilots at once, max_glideins ${maxPerEntry.get(entry)}`,
    );
  }
  for (const [entry, n] of seenAds) {
    assert.ok(
      n <= maxPerEntry.get(entry)!,
      `${entry}: factory advertised ${n} pilots, max_glideins ${maxPerEntry.get(entry)}`,
    );
  }
});

test("SIGKILL of a pilot mid-job: the lease lapses and the job runs again elsewhere, once", async () => {
  const cluster = await tp.submit("hello.sub", 1, 10);
  const running = await waitFor(
    "the job to run",
    async () => {
      const [j] = await queued([cluster]);
      return j?.JobStatus === "2" && j.RemoteHost ? unquote(j.RemoteHost)! : undefined;
    },
    GUARD_MS,
  );
  // The slot is slot1_N@<pilot id>@<host>; a local pilot's id is <factory>-<intent id>.
  const pilotId = Number(/-(\d+)$/.exec(running.split("@")[1] ?? "")?.[1]);
  const pilot = pilotDirs(tp).find((p) => p.intentId === pilotId);
  assert.ok(pilot, `a pilot folder for ${running}`);
  const wrapper = Number(readPidFile(pilot.dir));
  const node = childPid(wrapper, "pilot run");
  assert.ok(node, `the pilot process under wrapper ${wrapper}`);
  // The job runs in its own process group, which a SIGKILL of the pilot does not reach: under
  // the pilot's job launcher, which ends it when the pilot's pipe closes (or under the pilot
  // itself, started before the launcher was ready); the local adapter ends it too once it sees
  // the pilot gone, as a site's batch system would.
  const launcher = childPid(node, "launcher-process.js");
  assert.ok(launcher, `the job launcher under pilot ${node}`);
  const payload = await waitFor(
    "the job's process",
    () => childPid(launcher, "sleep 10") ?? childPid(node, "sleep 10"),
  );
  try {
    process.kill(node, "SIGKILL");
    await waitFor("the pilot process to be gone", () => !alive(node));
    await waitFor("the dead pilot's job to end", () => !alive(payload));
    await waitFor("the dead pilot's job launcher to end", () => !alive(launcher));
    const [still] = await queued([cluster]);
    assert.equal(still?.JobStatus, "2", "killed mid-job: the job still holds its lease");
    assert.equal(unquote(still?.RemoteHost), running);

    const [done] = await assertEachCompletedOnce([cluster], 1);
    assert.ok(Number(done!.NumJobStarts) >= 2, `started ${done!.NumJobStarts} times`);
    // RemoteHost is the job's dynamic slot, slot1_N@<pilot id>@<host>.
    const pilotOf = (slot: string | undefined) => slot?.split("@")[1];
    assert.notEqual(
      pilotOf(unquote(done!.LastRemoteHost)),
      pilotOf(running),
      "it finished on another pilot",
    );
    const lapsed = logLines(tp, "schedd", "leases lapsed; jobs back to idle").flatMap(
      (l) => l.jobs as unknown[],
    );
    assert.ok(
      lapsed.map(String).includes(`${cluster}.0`),
      `the schedd requeued ${cluster}.0 on the lapse`,
    );
  } finally {
    try {
      process.kill(-payload, "SIGKILL");
    } catch {
      // It ended on its own.
    }
  }
});

test("SIGKILL of the collector: the ads come back and new work completes", async (t) => {
  const names = async (type: string) =>
    new Set(
      (await tp.clients.collector.query({ type, projection: ["Name"] })).map((a) =>
        unquote(a.Name)!,
      ),
    );
  // Work in the queue across the restart, so the frontend keeps wanting its entries.
  const first = await tp.submit("hello.sub", 16, 4);
  await waitFor(
    "jobs running",
    async () => (await queued([first])).some((j) => j.JobStatus === "2"),
    GUARD_MS,
  );
  const factoryBefore = await names("GlideFactory");
  const clientBefore = await names("GlideClient");
  assert.ok(factoryBefore.size > 0 && clientBefore.size > 0, "ads to lose");
  const old = killDaemon(tp, "collector");
  await restarted("collector", old);
  const restartedAt = Date.now();
  // New work for the restarted pool (it also keeps the entries wanted until the ads are back).
  const second = await tp.submit("hello.sub", 10, 1);

  await waitFor("every GlideFactory ad back", async () => {
    const s = await names("GlideFactory");
    return [...factoryBefore].every((n) => s.has(n));
  });
  await waitFor("every GlideClient ad back", async () => {
    const s = await names("GlideClient");
    return [...clientBefore].every((n) => s.has(n));
  });
  t.diagnostic(
    `GlideFactory and GlideClient ads back ${((Date.now() - restartedAt) / 1000).toFixed(1)} s after the restart`,
  );

  await assertEachCompletedOnce([first], 16);
  const done = await assertEachCompletedOnce([second], 10);
  // The pilots that ran the new work advertised their slots to the new collector.
  // A job's LastRemoteHost names its dynamic slot, gone with the job: match its pilot's slot.
  const ran = new Set(done.map((j) => parentSlotName(unquote(j.LastRemoteHost)!)));
  await waitFor("Slot ads of the pilots that ran the new work", async () => {
    const s = await names("Slot");
    return [...s].some((n) => ran.has(n));
  });
});

function readPidFile(dir: string): string {
  return readFileSync(join(dir, "pid"), "utf8").trim();
}
