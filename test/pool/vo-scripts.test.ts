/**
 * VO scripts through a whole pool: the demo's frontend stages its scripts and serves them, its
 * GlideClient ads carry the bundle's URL and hash, the factory passes them to the pilots it
 * submits, and those pilots run the start script (its attribute is on their slot ads), start
 * jobs through the VO's wrapper, and turn START off while the periodic script fails.
 */
import assert from "node:assert/strict";
import { appendFileSync, chmodSync, cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { freePort } from "../../src/pool/ports.js";
import { DEMO_CONFIG, history, startTestPool, waitFor, type TestPool } from "./pool-harness.js";

function script(dir: string, name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, `#!/bin/sh\n${text}\n`);
  chmodSync(p, 0o755);
  return p;
}

test("a pool's pilots run the frontend's VO scripts: start attribute on the slot ad, jobs through the VO wrapper, START off while the periodic check fails", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "updraft-vo-pool-"));
  const started: TestPool[] = [];
  // The pool stops (reading its config) before its config folder goes.
  t.after(async () => {
    for (const p of started) await p.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const configDir = join(dir, "config");
  cpSync(DEMO_CONFIG, configDir, { recursive: true });
  const flag = join(dir, "cvmfs-stale");
  const start = script(dir, "software.sh", `echo '{"status":"OK","attrs":{"VO_SOFTWARE":"v42"}}'`);
  const health = script(
    dir,
    "health.sh",
    `if [ -e ${flag} ]; then echo "cvmfs catalog is stale" >&2; exit 1; fi`,
  );
  // The job exits 7 only when it ran under this wrapper with the variable it sets.
  const wrapper = script(dir, "vo-wrap.sh", `VO_WRAPPED=yes\nexport VO_WRAPPED\nexec "$@"`);
  const port = await freePort();
  appendFileSync(
    join(configDir, "frontend.yaml"),
    `
staging:
  dir: \${UPDRAFT_STATE}/frontend-stage
  listen: { host: 127.0.0.1, port: ${port} }
  url: https://localhost:${port}
scripts:
  - { file: ${start} }
  - { file: ${health}, when: periodic, period_s: 1 }
job_wrapper: { file: ${wrapper} }
`,
  );
  const pool = await startTestPool({ configDir });
  started.push(pool);

  const sub = join(pool.jobsDir, "wrapped.sub");
  writeFileSync(
    sub,
    `executable = /bin/sh
transfer_executable = false
arguments = "-c 'test x$VO_WRAPPED = xyes && exit 7; exit 1'"
request_cpus = 1
request_memory = 64 MB
queue 1
`,
  );
  const submitted = await pool.cli(["submit", sub]);
  const cluster = Number(/submitted to cluster (\d+)/.exec(submitted.stdout)?.[1]);
  assert.ok(cluster > 0, submitted.stdout + submitted.stderr);

  const [done] = await waitFor(
    "the wrapped job to finish",
    async () => {
      const h = await history(pool, [cluster], ["JobStatus", "ExitCode"]);
      return h.length === 1 && h[0]!.JobStatus === "4" ? h : undefined;
    },
    120_000,
  );
  assert.equal(done!.ExitCode, "7", "the job ran under the VO's wrapper, its exit code unchanged");

  // What the operator sees: the scripts the group sends and the bundle its requests name.
  const status = await pool.cli(["frontend", "status", "--group", "main"]);
  assert.equal(status.code, 0, status.stderr);
  assert.match(
    status.stdout,
    /^scripts sent: .*start: \S*software\.sh.*periodic every 1 s: \S*health\.sh.*\(bundle [0-9a-f]{12}\)$/m,
  );

  const slots = await pool.clients.collector.query({ type: "Slot" });
  const withVo = slots.filter((a) => a.VO_SOFTWARE === '"v42"');
  assert.ok(
    withVo.length > 0,
    `a slot ad carries the start script's attribute: ${slots.length} slots`,
  );
  assert.ok(withVo.every((a) => a.GLIDEIN_PS_OK === "true"));

  writeFileSync(flag, "");
  const off = await waitFor(
    "a slot ad with the periodic check failed",
    async () =>
      (await pool.clients.collector.query({ type: "Slot" })).find(
        (a) => a.GLIDEIN_PS_OK === "false",
      ),
    60_000,
  );
  assert.equal(off.START, "false");
  assert.match(off.GLIDEIN_PS_FAILURE_REASON ?? "", /cvmfs catalog is stale/);
});
