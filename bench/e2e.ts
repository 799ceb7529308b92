/**
 * e2e: the demo pool (config/demo, local adapter, real daemons and pilots) already up; 2,000
 * short jobs (`sleep 0; echo`) submitted with `updraft submit`. Figures: seconds from the submit
 * to the first job running, and jobs completed per second from the submit to the last one; beside
 * them the CPU milliseconds per completed job of each daemon, of the pilots (their own processes
 * and their job launchers) and of the jobs' processes (the pilots' and launchers' reaped
 * children), read from /proc over the same window, with the load average, since the machine may
 * be shared. At the end the pool is stopped and the benchmark returns only once none of its
 * pilots or jobs is left running.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { addDowntimeOnce, poolClients } from "../src/pool/demo.js";
import { distinctFreePorts } from "../src/pool/ports.js";
import { packageRoot, up, type Pool } from "../src/pool/up.js";
import { DAEMON_ORDER } from "../src/pool/supervisor.js";
import { processesUnder, readProcTimes, TreeCpuMeter, type ProcTimes } from "./lib/proc-cpu.js";

const JOBS = Number(process.env.E2E_JOBS ?? 2000);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const isPilotCommand = (cmdline: string) =>
  / pilot run\b/.test(cmdline) && !cmdline.startsWith("/bin/sh");

/** A pilot's job launcher (src/pilot/runner/launcher-process.ts), which starts its jobs. */
const isLauncherCommand = (cmdline: string) => /\/launcher-process\.js$/.test(cmdline);

/**
 * A pool process's role: a daemon by the supervisor's pid, a pilot or its job launcher by its
 * command line. A job a pilot is starting shows the pilot's command line until its exec: with a
 * pilot for a parent it is no pilot (counted as one, every pilot seemed to start several more).
 */
function poolRoles(pool: Pool): (p: ProcTimes) => string | undefined {
  return (p) => {
    for (const name of DAEMON_ORDER) if (pool.supervisor.pid(name) === p.pid) return name;
    const launcher = isLauncherCommand(p.cmdline);
    if (!launcher && !isPilotCommand(p.cmdline)) return undefined;
    const parent = readProcTimes(p.ppid);
    const underPilot = parent !== undefined && isPilotCommand(parent.cmdline);
    if (launcher) return underPilot ? "launchers" : undefined;
    return underPilot ? undefined : "pilots";
  };
}

/**
 * Waits until no process of the pool is left working in its state directory: pilots idle for
 * max_idle_s once the queue is empty, and one that outlived its run would take CPU from the next
 * benchmark. The pool's stop removes them; one still there after a minute is killed, and said so.
 */
async function pilotsGone(stateDir: string): Promise<void> {
  const end = Date.now() + 60_000;
  let left = processesUnder(stateDir);
  while (left.length > 0 && Date.now() < end) {
    await sleep(200);
    left = processesUnder(stateDir);
  }
  if (left.length === 0) return;
  process.stderr.write(`e2e: killing ${left.length} pool processes left after its stop\n`);
  for (const pid of left) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // Gone since.
    }
  }
}

/**
 * `attempt` again until it answers: at a load of 30 and more a poll's connection was seen lost
 * mid-call, and the client reconnects by itself. Gives up after a minute of failures.
 */
async function retrying<T>(attempt: () => Promise<T>): Promise<T> {
  const end = Date.now() + 60_000;
  for (;;) {
    try {
      return await attempt();
    } catch (err) {
      if (Date.now() > end) throw err;
      await sleep(250);
    }
  }
}

export async function run(): Promise<void> {
  const stateDir = mkdtempSync(join(tmpdir(), "updraft-bench-e2e-"));
  // Kernel-picked ports, so a pool started at the same moment cannot race this one for them.
  const [collector, schedd, factoryMetrics, frontendMetrics] = await distinctFreePorts(4);
  writeFileSync(
    join(stateDir, "ports.json"),
    JSON.stringify({ collector, schedd, factoryMetrics, frontendMetrics }),
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
    const meter = new TreeCpuMeter(process.pid, poolRoles(pool));
    meter.start();
    const submitCpu0 = readProcTimes(process.pid)!.childrenMs;
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
    const submitS = (Date.now() - t0) / 1000;
    const submitCpuMs = readProcTimes(process.pid)!.childrenMs - submitCpu0;
    const cluster = Number(/submitted to cluster (\d+)/.exec(sub.stdout)?.[1]);
    if (!cluster) throw new Error(`submit failed: ${sub.stdout}${sub.stderr}`);
    // Polls are small (one job at most) so that watching does not slow the pool down.
    const one = { projection: ["ProcId"], limit: 1 };
    let firstStart: number | undefined;
    while (firstStart === undefined) {
      const [running, done] = await Promise.all([
        retrying(() =>
          clients.schedd.query({ constraint: `ClusterId == ${cluster} && JobStatus == 2`, ...one }),
        ),
        retrying(() =>
          clients.schedd.query({ constraint: `ClusterId == ${cluster}`, history: true, ...one }),
        ),
      ]);
      if (running.length + done.length > 0) firstStart = (Date.now() - t0) / 1000;
      else await sleep(50);
    }
    for (;;) {
      const left = await retrying(() =>
        clients.schedd.query({ constraint: `ClusterId == ${cluster}`, ...one }),
      );
      if (left.length === 0) break;
      await sleep(250);
    }
    const wall = (Date.now() - t0) / 1000;
    // A pilot that ended in the window was reaped (through its wrapper) by the factory, a
    // launcher by its pilot.
    const cpu = meter.stop({ pilots: "factory", launchers: "pilots" });
    // A launcher's CPU is its pilot's, the jobs it reaped the jobs'.
    const launchers = cpu.get("launchers");
    const pilotCpu = cpu.get("pilots");
    if (launchers && pilotCpu) {
      pilotCpu.selfMs += launchers.selfMs;
      pilotCpu.childrenMs += launchers.childrenMs;
    }
    const load1 = Math.round(loadavg()[0] * 10) / 10;
    const done = await retrying(() =>
      clients.schedd.query({
        constraint: `ClusterId == ${cluster} && JobStatus == 4`,
        projection: ["LastRemoteHost"],
        history: true,
      }),
    );
    // LastRemoteHost names the job's dynamic slot (slot1_N@pilot@host): one pilot is its tail.
    const pilots = new Set(done.map((j) => j.LastRemoteHost?.replace(/^"?slot\d+_\d+@/, ""))).size;
    process.stdout.write(
      JSON.stringify({
        bench: "e2e.first_job_start_s",
        value: firstStart,
        from: "the start of the user's `updraft submit` process (its module load and connection included)",
        to: "the schedd showing the first job running (or done), polled every 50 ms",
        // Of which the submit command, start to exit, and its CPU (module load, compile, TLS).
        submit_s: Math.round(submitS * 100) / 100,
        submit_cpu_ms: submitCpuMs,
        load1,
      }) + "\n",
    );
    process.stdout.write(
      JSON.stringify({
        bench: "e2e.jobs_per_s",
        value: Math.round((done.length / wall) * 10) / 10,
        jobs: JOBS,
        completed: done.length,
        wall_s: Math.round(wall * 10) / 10,
        pilots,
        load1,
      }) + "\n",
    );
    const perJob = (ms: number) => Math.round((ms / Math.max(1, done.length)) * 100) / 100;
    const figures: [string, number][] = [
      ...DAEMON_ORDER.map((d): [string, number] => {
        const c = cpu.get(d);
        return [d, c ? perJob(c.selfMs + c.childrenMs) : 0];
      }),
      ["pilots", perJob(cpu.get("pilots")?.selfMs ?? 0)],
      ["jobs", perJob(cpu.get("pilots")?.childrenMs ?? 0)],
      ["submit", perJob(submitCpuMs)],
    ];
    const pool_ms = Math.round(figures.reduce((a, [, v]) => a + v, 0) * 100) / 100;
    for (const [who, value] of [...figures, ["pool", pool_ms] as [string, number]]) {
      process.stdout.write(
        JSON.stringify({
          bench: `e2e.cpu_ms_per_job.${who}`,
          value,
          ...(who === "pilots" ? { processes: cpu.get("pilots")?.processes ?? 0 } : {}),
          load1,
        }) + "\n",
      );
    }
  } finally {
    await clients.close();
    await pool.stop();
    await pilotsGone(stateDir);
    if (process.env.E2E_KEEP) process.stderr.write(`kept ${stateDir}\n`);
    else rmSync(stateDir, { recursive: true, force: true });
  }
}
