/**
 * A real factory with a `slurm` entry on a real Slurm: it submits what a frontend asks for, the
 * pilots run under Slurm with the decrypted credential, the factory reads their reports; after a
 * restart it finds every pilot again and submits none twice.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { expandTasks, pilotOfJob } from "../../../src/factory/adapters/slurm/job-names.js";
import { createFactoryDaemon } from "../../../src/factory/daemon.js";
import { startSlurm, type SlurmPeer } from "../../helpers/slurm-peer.js";
import { createFactoryWorld, type FactoryWorld, PILOT_OK, silent } from "../factory-harness.js";

let w: FactoryWorld;
let peer: SlurmPeer;
before(async () => {
  peer = await startSlurm();
  w = await createFactoryWorld();
});
after(async () => {
  await w?.cleanup();
  await peer?.stop();
});

/** The factory's Slurm jobs: each job's id, and the handle of the pilot it is. */
function slurmPilots(): { jobId: string; handle: string }[] {
  return peer
    .cmd("squeue", ["-h", "-t", "all", "-o", "%i %j"])
    .split("\n")
    .flatMap((line) => {
      const m = /^(\S+) updraft-[0-9a-f]{10}-(\S+)$/.exec(line);
      // A pending array's tasks share one line until they start: one pilot per task id.
      const range = m && /^(\d+)_\[([^\]]+)\]$/.exec(m[1]!);
      const ids = range ? expandTasks(range[2]!).map((t) => `${range[1]}_${t}`) : m ? [m[1]!] : [];
      return ids.flatMap((jobId) => {
        const p = pilotOfJob(m![2]!, jobId);
        return p ? [{ jobId, handle: p.handle }] : [];
      });
    });
}

async function until(what: string, fn: () => Promise<boolean>, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await fn())) {
    if (Date.now() > end) assert.fail(`${what}: not reached in ${ms} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

test("the factory runs pilots on Slurm, reads their reports, and after a restart submits none twice", async () => {
  const cfg = w.config({
    top: { work_dir: join(w.dir, "work-slurm") },
    // The credential the frontend sent must be what the pilot finds in X509_USER_PROXY.
    pilotScript: `grep -q PILOT-PROXY-SECRET "$X509_USER_PROXY" || exit 9\nsleep 1\n${PILOT_OK}`,
    entry: {
      gridtype: "slurm",
      adapter: { slurm_conf: peer.conf, memory_mb: 100 },
    },
  });
  const frontend = w.collector.as("frontend");
  await frontend.advertise([w.glideClient()], "GlideClient");
  let daemon = createFactoryDaemon(cfg, { logger: silent });
  try {
    await daemon.start();
    const first = daemon.store.all();
    assert.equal(first.length, 3);
    assert.ok(first.every((p) => p.handle && p.gridtype === "slurm"));
    // The batch of three is one job array, a task per pilot.
    const jobs = slurmPilots();
    for (const p of first) {
      assert.ok(
        jobs.some((j) => j.handle === p.handle),
        `${p.handle} is a Slurm job: ${JSON.stringify(jobs)}`,
      );
    }
    assert.equal(new Set(jobs.map((j) => j.jobId.split("_")[0])).size, 1, JSON.stringify(jobs));

    // A restart while the pilots are queued or running: all found again, none submitted twice.
    await daemon.stop();
    daemon = createFactoryDaemon(cfg, { logger: silent });
    await daemon.start();
    const again = daemon.store.all();
    for (const p of first) {
      const q = again.find((x) => x.id === p.id);
      assert.equal(q?.handle, p.handle, `pilot ${p.id} found again`);
      assert.notEqual(q?.state, "Lost", `pilot ${p.id} is not lost`);
    }
    // Pilots that ended meanwhile may be replaced (the frontend wants 3 idle), but no pilot is a
    // Slurm job twice and Slurm has no job the factory does not know.
    const ours = slurmPilots();
    assert.equal(ours.length, again.length, JSON.stringify(ours));
    for (const p of again) assert.equal(ours.filter((j) => j.handle === p.handle).length, 1);

    await until("three pilot outcomes", async () => {
      await daemon.cycle();
      return daemon.store.all().filter((p) => p.outcome !== null).length >= 3;
    });
    const counters = daemon.store.counters().filter((c) => c.client === "fe.main");
    const get = (n: string) => counters.find((c) => c.name === n)?.value ?? 0;
    assert.ok(get("finished") >= 3, JSON.stringify(counters));
    assert.ok(get("jobs_run") >= 6, JSON.stringify(counters));
    assert.equal(get("failed"), 0, JSON.stringify(counters));
  } finally {
    await daemon.stop();
    await frontend.invalidate({ type: "GlideClient", name: "local1@fact1@fe.main" });
  }
});
