/**
 * e2e: the demo pool (config/demo, local adapter, real daemons and pilots) already up; 2,000
 * short jobs (`sleep 0; echo`) submitted with `updraft submit`. Figures: seconds from the submit
 * to the first job running, and jobs completed per second from the submit to the last one.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { addDowntimeOnce, poolClients } from "../src/pool/demo.js";
import { freePort } from "../src/pool/ports.js";
import { packageRoot, up } from "../src/pool/up.js";

const JOBS = Number(process.env.E2E_JOBS ?? 2000);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function run(): Promise<void> {
  const stateDir = mkdtempSync(join(tmpdir(), "updraft-bench-e2e-"));
  writeFileSync(
    join(stateDir, "ports.json"),
    JSON.stringify({ collector: await freePort(), schedd: await freePort() }),
  );
  const configDir = join(packageRoot(), "config", "demo");
  const pool = await up({ configDir, stateDir, beforeStart: addDowntimeOnce(stateDir, configDir) });
  const clients = poolClients(pool);
  try {
    // "Already up": the factory has advertised its entries.
    for (;;) {
      const ads = await clients.collector.query({ type: "GlideFactory" }).catch(() => []);
      if (ads.length > 0) break;
      await sleep(200);
    }
    const jobsDir = join(stateDir, "jobs");
    mkdirSync(jobsDir);
    const t0 = Date.now();
    const sub = spawnSync(
      process.execPath,
      [pool.cli, "submit", join(packageRoot(), "examples", "demo", "hello.sub")],
      {
        cwd: jobsDir,
        env: {
          ...process.env,
          ...pool.userEnv,
          UPDRAFT_DEMO_COUNT: String(JOBS),
          UPDRAFT_DEMO_SLEEP: "0",
        },
        encoding: "utf8",
      },
    );
    const cluster = Number(/submitted to cluster (\d+)/.exec(sub.stdout)?.[1]);
    if (!cluster) throw new Error(`submit failed: ${sub.stdout}${sub.stderr}`);
    let firstStart: number | undefined;
    for (;;) {
      const queue = await clients.schedd.query({
        constraint: `ClusterId == ${cluster}`,
        projection: ["JobStatus"],
      });
      if (
        firstStart === undefined &&
        (queue.length < JOBS || queue.some((j) => j.JobStatus === "2"))
      ) {
        firstStart = (Date.now() - t0) / 1000;
      }
      if (queue.length === 0) break;
      await sleep(firstStart === undefined ? 50 : 250);
    }
    const wall = (Date.now() - t0) / 1000;
    const done = await clients.schedd.query({
      constraint: `ClusterId == ${cluster} && JobStatus == 4`,
      projection: ["LastRemoteHost"],
      history: true,
    });
    const pilots = new Set(done.map((j) => j.LastRemoteHost)).size;
    process.stdout.write(
      JSON.stringify({ bench: "e2e.first_job_start_s", value: firstStart }) + "\n",
    );
    process.stdout.write(
      JSON.stringify({
        bench: "e2e.jobs_per_s",
        value: Math.round((done.length / wall) * 10) / 10,
        jobs: JOBS,
        completed: done.length,
        wall_s: Math.round(wall * 10) / 10,
        pilots,
      }) + "\n",
    );
  } finally {
    await clients.close();
    await pool.stop();
    if (process.env.E2E_KEEP) process.stderr.write(`kept ${stateDir}\n`);
    else rmSync(stateDir, { recursive: true, force: true });
  }
}
