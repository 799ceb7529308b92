import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, test } from "node:test";
import { httpsGet } from "../helpers/https-get.js";
import { job, slot, startEnv, submit, type TestEnv } from "./harness.js";

let env: TestEnv;
before(async () => {
  env = await startEnv({ extra: { lease_s: 600 } });
});
after(() => env.close());

function scrape(who: "admin" | "bob") {
  return httpsGet({
    port: env.schedd.server.address().port,
    path: "/metrics",
    ca: readFileSync(env.pki.caCertFile),
    cred: env.creds[who],
  });
}

test("jobs by owner and state, running per entry and lease expiries", async () => {
  const alice = env.client("alice");
  await submit(alice, [job(), job(), job()]);
  await env.client("pilot").claimJob(slot());
  let r = await scrape("admin");
  assert.equal(r.status, 200);
  const owner = /updraft_schedd_jobs\{owner="([^"]+)",state="idle"\} 2/.exec(r.body)?.[1];
  assert.ok(owner, r.body);
  assert.match(
    r.body,
    new RegExp(`^updraft_schedd_jobs\\{owner="${owner}",state="running"\\} 1$`, "m"),
  );
  assert.match(r.body, /^updraft_schedd_running_jobs_by_entry\{entry="[^"]*"\} 1$/m);
  assert.match(r.body, /^updraft_schedd_lease_expiries_total 0$/m);
  assert.match(r.body, /^updraft_rpc_connections (?:[2-9]|[1-9]\d+)$/m, "alice's and the pilot's");

  env.clock.advance(11 * 60_000);
  env.schedd.tick();
  r = await scrape("admin");
  assert.match(r.body, /^updraft_schedd_lease_expiries_total 1$/m);
  assert.match(
    r.body,
    new RegExp(`^updraft_schedd_jobs\\{owner="${owner}",state="idle"\\} 3$`, "m"),
  );
});

test("a user without the monitor role cannot scrape", async () => {
  const r = await scrape("bob");
  assert.equal(r.status, 403);
  assert.doesNotMatch(r.body, /updraft_schedd/);
});

test("claims, completions and holds by reason code are counted", async () => {
  const alice = env.client("alice");
  const before = await scrape("admin");
  const claims = Number(/^updraft_schedd_claims_total (\d+)$/m.exec(before.body)?.[1]);
  const c = await submit(alice, [job(), job(), job()]);
  const pilot = env.client("pilot");
  const done = await pilot.claimJob(slot());
  await pilot.completeJob({ leaseId: done.leaseId });
  const failed = await pilot.claimJob(slot());
  await pilot.completeJob({
    leaseId: failed.leaseId,
    exitCode: 1,
    holdReason: "output out.txt missing",
    holdCode: 12,
  });
  const left = [`${c}.0`, `${c}.1`, `${c}.2`].filter(
    (id) => id !== done.jobId && id !== failed.jobId,
  );
  await alice.act("hold", { ids: left }, "waiting for data");
  const r = await scrape("admin");
  assert.match(r.body, new RegExp(`^updraft_schedd_claims_total ${claims + 2}$`, "m"));
  assert.match(r.body, /^updraft_schedd_completions_total 1$/m);
  assert.match(r.body, /^updraft_schedd_holds_total\{code="12"\} 1$/m);
  // The claims may have taken older idle jobs first; every job of this cluster still queued is held.
  assert.match(
    r.body,
    new RegExp(`^updraft_schedd_holds_total\\{code="1"\\} ${left.length}$`, "m"),
  );
});

test("job CPU is counted per entry, at most the run's wall time on the cores it asked for", async () => {
  // Bob has used nothing yet, so the claims take his jobs before alice's older idle ones.
  const bob = env.client("bob");
  const cpuOf = (body: string, entry: string, factory = "fact1") =>
    Number(
      new RegExp(
        `^updraft_schedd_job_cpu_seconds_total\\{entry="${entry}",factory="${factory}"\\} (\\S+)$`,
        "m",
      ).exec(body)?.[1] ?? 0,
    );
  const before = (await scrape("admin")).body;
  await submit(bob, [job({ RequestCpus: "2" }), job({ RequestCpus: "2" })]);
  const pilot = env.client("pilot");
  const a = await pilot.claimJob(
    slot({ GLIDEIN_Entry_Name: '"CPU_A"', GLIDEIN_Factory: '"fact1"' }),
  );
  const b = await pilot.claimJob(
    slot({ GLIDEIN_Entry_Name: '"CPU_B"', GLIDEIN_Factory: '"fact1"' }),
  );
  env.clock.advance(100_000);
  await pilot.completeJob({ leaseId: a.leaseId, cpuUserSeconds: 150, cpuSysSeconds: 10.5 });
  // A worker node claiming more CPU than 2 cores for 100 s could give is held to that.
  await pilot.completeJob({ leaseId: b.leaseId, cpuUserSeconds: 1e12, cpuSysSeconds: -5 });
  const r = (await scrape("admin")).body;
  assert.equal(cpuOf(r, "CPU_A") - cpuOf(before, "CPU_A"), 160.5);
  assert.equal(cpuOf(r, "CPU_B") - cpuOf(before, "CPU_B"), 200);
  const counted = [...env.schedd.queue.events.cpuByEntry.entries];
  assert.equal(
    counted.find((e) => e.entry === "CPU_A" && e.factory === "fact1")?.cpuSeconds,
    cpuOf(r, "CPU_A"),
  );
});
