/**
 * `npm start` / `updraft demo`: the demo pool (config/demo) with a sample workload from
 * examples/demo submitted by the real `updraft submit`, and a live view of jobs and pilots.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parentSlotName } from "../ads/slot.js";
import { createCollectorClient, type CollectorClient } from "../collector/client.js";
import { scheddClient, type ScheddClient } from "../schedd/client.js";
import { createRpcClient, type RpcClient } from "../wire/index.js";
import {
  formatProgress,
  gatherEntries,
  gatherJobs,
  progressLine,
  type PoolProgress,
} from "./progress.js";
import { PoolStartError, packageRoot, up, type Pool } from "./up.js";
import { JOB } from "../ads/names.js";

/** The sample workload: which submit file gets which share of the jobs. */
export const WORKLOAD = [
  { file: "hello.sub", share: 0.6 },
  { file: "sites.sub", share: 0.2 },
  { file: "bigmem.sub", share: 0.1 },
  { file: "gpu.sub", share: 0.1 },
] as const;

/** Split `total` jobs by the shares, every file getting at least one when there are enough. */
export function splitWorkload(total: number): { file: string; count: number }[] {
  const counts = WORKLOAD.map((w) =>
    total >= WORKLOAD.length ? Math.max(1, Math.floor(total * w.share)) : 0,
  );
  let left = total - counts.reduce((a, b) => a + b, 0);
  for (let i = 0; left !== 0; i = (i + 1) % counts.length) {
    const step = left > 0 ? 1 : -1;
    if (step < 0 && counts[i]! <= 1) continue;
    counts[i]! += step;
    left -= step;
  }
  return WORKLOAD.map((w, i) => ({ file: w.file, count: counts[i]! })).filter((w) => w.count > 0);
}

export const DOWNTIME_ENTRY = "Demo_UK_RAL";

export interface DemoOptions {
  stateDir: string;
  jobs: number;
  /** Seconds each sample job sleeps. */
  sleepS: number;
  untilDone: boolean;
  json: boolean;
  out: NodeJS.WriteStream;
  /** Resolves when the user asks to stop (Ctrl-C). */
  stopRequested: Promise<void>;
}

export interface DemoSummary {
  jobs: number;
  completed: number;
  failed: number;
  pilots_used: number;
  wall_s: number;
  jobs_per_s: number;
  first_job_start_s?: number;
  state_dir: string;
}

/** Put the demo's downtime entry in downtime once, before the factory first starts. */
export function addDowntimeOnce(stateDir: string, configDir: string) {
  return (env: NodeJS.ProcessEnv, cli: string) => {
    const marker = join(stateDir, "demo-downtime-added");
    if (existsSync(marker)) return;
    const r = spawnSync(
      process.execPath,
      [cli, "factory", "downtime", "add", "--config", join(configDir, "factory.yaml")].concat([
        "--entry",
        DOWNTIME_ENTRY,
        "--comment",
        "demo: a site in downtime",
      ]),
      { env, encoding: "utf8" },
    );
    if (r.status !== 0) {
      throw new PoolStartError(`cannot add the demo downtime: ${r.stderr || r.stdout}`);
    }
    writeFileSync(marker, "");
  };
}

/** Submit one file with the real CLI; returns its cluster id. */
function submit(pool: Pool, file: string, count: number, sleepS: number, cwd: string) {
  return new Promise<number>((resolve, reject) => {
    const child = spawn(process.execPath, [pool.cli, "submit", file], {
      cwd,
      env: {
        ...process.env,
        ...pool.userEnv,
        UPDRAFT_DEMO_COUNT: String(count),
        UPDRAFT_DEMO_SLEEP: String(sleepS),
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (out += d.toString()));
    child.on("exit", (code) => {
      const m = /submitted to cluster (\d+)/.exec(out);
      if (code === 0 && m) resolve(Number(m[1]));
      else reject(new Error(`updraft submit ${file} failed (exit ${code}): ${out.trim()}`));
    });
  });
}

export interface DemoClients {
  rpcs: RpcClient[];
  schedd: ScheddClient;
  collector: CollectorClient;
  close(): Promise<void>;
}

export function poolClients(pool: Pool): DemoClients {
  const opts = { credentialFile: pool.userEnv.X509_USER_PROXY, caDir: pool.userEnv.X509_CERT_DIR! };
  const s = createRpcClient({ url: pool.scheddUrl, ...opts });
  const c = createRpcClient({ url: pool.collectorUrl, ...opts });
  return {
    rpcs: [s, c],
    schedd: scheddClient(s),
    collector: createCollectorClient(c),
    close: async () => {
      await Promise.all([s.close(), c.close()]);
    },
  };
}

async function distinctPilots(schedd: ScheddClient, clusters: readonly number[]): Promise<number> {
  const constraint = clusters.map((c) => `${JOB.ClusterId} == ${c}`).join(" || ") || "true";
  const done = await schedd.query({ constraint, projection: [JOB.LastRemoteHost], history: true });
  // LastRemoteHost names the job's dynamic slot (slot1_N@pilot): count the pilots.
  return new Set(
    done.map((j) => j.LastRemoteHost && parentSlotName(j.LastRemoteHost)).filter(Boolean),
  ).size;
}

export async function runDemo(o: DemoOptions): Promise<DemoSummary> {
  const home = packageRoot();
  const configDir = join(home, "config", "demo");
  const say = (line: string) => {
    if (!o.json) o.out.write(`${line}\n`);
  };
  say(`starting the demo pool (state and logs in ${o.stateDir})`);
  const pool = await up({
    configDir,
    stateDir: o.stateDir,
    say,
    beforeStart: addDowntimeOnce(o.stateDir, configDir),
  });
  const clients = poolClients(pool);
  const started = Date.now();
  let summary: DemoSummary;
  try {
    say(`pool up: collector ${pool.userEnv.UPDRAFT_POOL}, schedd ${pool.scheddUrl}`);
    say(`in another shell: . ${pool.envFile}; updraft q; updraft status`);
    const jobsDir = join(o.stateDir, "jobs");
    mkdirSync(join(jobsDir, "out"), { recursive: true });
    const clusters: number[] = [];
    for (const w of splitWorkload(o.jobs)) {
      const cluster = await submit(
        pool,
        join(home, "examples", "demo", w.file),
        w.count,
        o.sleepS,
        jobsDir,
      );
      clusters.push(cluster);
      say(`submitted ${w.count} job(s) of examples/demo/${w.file} as cluster ${cluster}`);
    }
    const interactive = o.out.isTTY && !o.json;
    let drawn = 0;
    let lastLine = "";
    let firstStart: number | undefined;
    let stop = false;
    let last: PoolProgress | undefined;
    void o.stopRequested.then(() => (stop = true));
    for (;;) {
      let progress: PoolProgress | undefined;
      try {
        const [jobs, entries] = await Promise.all([
          gatherJobs(clients.schedd, clusters),
          gatherEntries(clients.collector),
        ]);
        progress = { jobs, entries, elapsedS: (Date.now() - started) / 1000 };
      } catch (err) {
        // A daemon restarting (the supervisor brings it back) is no reason to stop the demo.
        if (!o.json) say(`(waiting for the pool: ${(err as Error).message})`);
      }
      if (progress) {
        const j = progress.jobs;
        if (firstStart === undefined && j.running + j.completed + j.failed > 0) {
          firstStart = (Date.now() - started) / 1000;
        }
        if (interactive) {
          const text = formatProgress(progress, o.jobs);
          // Move up over the previous drawing and redraw it in place.
          o.out.write((drawn ? `\x1b[${drawn}A\x1b[J` : "") + text);
          drawn = text.split("\n").length - 1;
        } else if (!o.json) {
          const line = progressLine(progress, o.jobs);
          if (line.replace(/^\d+s /, "") !== lastLine.replace(/^\d+s /, "")) o.out.write(line);
          lastLine = line;
        }
        last = progress;
        if (o.untilDone && j.completed + j.failed >= o.jobs) break;
      }
      if (stop) break;
      await Promise.race([new Promise((r) => setTimeout(r, 1000)), o.stopRequested]);
    }
    const wall = (Date.now() - started) / 1000;
    summary = {
      jobs: o.jobs,
      completed: last?.jobs.completed ?? 0,
      failed: last?.jobs.failed ?? 0,
      pilots_used: await distinctPilots(clients.schedd, clusters).catch(() => 0),
      wall_s: Math.round(wall * 10) / 10,
      jobs_per_s: Math.round(((last?.jobs.completed ?? 0) / wall) * 100) / 100,
      first_job_start_s: firstStart,
      state_dir: o.stateDir,
    };
  } finally {
    await clients.close();
    say("stopping the pool...");
    await pool.stop();
    say(
      `stopped. Logs: ${join(o.stateDir, "log")}; job outputs: updraft transfer-output (from ${join(o.stateDir, "jobs")})`,
    );
  }
  return summary;
}
