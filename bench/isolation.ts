/**
 * The per-job cost of isolation: `/bin/true` jobs run one after another through the pilot's
 * runner, without isolation and in their own user, mount and pid namespaces with each tool
 * (bubblewrap, util-linux unshare; the pilot's work and bootstrap directories covered). Figures: median wall time from
 * spawn to exit, and the CPU time of the job's processes (the runner's children: unshare, the
 * setup shell and mounts with unshare, the job) per job.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { ClassAd } from "../src/classad/index.js";
import { detectIsolation, type JobIsolation } from "../src/pilot/runner/isolation.js";
import { jobSpecFromAd } from "../src/pilot/runner/job-spec.js";
import { startJob } from "../src/pilot/runner/run-job.js";

const JOBS = 200;

/** CPU seconds of this process's reaped children (utime + stime), from /proc/self/stat. */
function childrenCpuMs(): number {
  const stat = readFileSync("/proc/self/stat", "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // Fields 16 and 17 of stat (cutime, cstime) are at 13 and 14 after the command name.
  return ((Number(fields[13]) + Number(fields[14])) * 1000) / 100;
}

async function timeJobs(workDir: string, isolation: JobIsolation | undefined) {
  const walls: number[] = [];
  const cpu0 = childrenCpuMs();
  for (let i = 0; i < JOBS; i++) {
    const dir = join(workDir, "execute", `dir_${isolation?.kind ?? "plain"}_${i}`);
    mkdirSync(dir, { recursive: true });
    const r = jobSpecFromAd(
      String(i),
      ClassAd.parse('[ Cmd = "/bin/true"; TransferExecutable = false ]'),
      dir,
      {},
    );
    if (!r.ok) throw new Error(r.message);
    const t0 = performance.now();
    const out = await startJob(r.spec, { pollMs: 60_000, isolation }).done;
    walls.push(performance.now() - t0);
    if (out.exitCode !== 0) throw new Error(`job ${i} failed: ${JSON.stringify(out)}`);
    rmSync(dir, { recursive: true, force: true });
  }
  walls.sort((a, b) => a - b);
  return {
    wallMs: Math.round(walls[walls.length >> 1] * 10) / 10,
    cpuMs: Math.round(((childrenCpuMs() - cpu0) / JOBS) * 10) / 10,
  };
}

export async function run(): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), "updraft-bench-isolation-"));
  const workDir = join(root, "updraft-pilot.bench", "run");
  mkdirSync(workDir, { recursive: true });
  const results: [string, { wallMs: number; cpuMs: number }][] = [
    ["none", await timeJobs(workDir, undefined)],
  ];
  for (const tool of ["bwrap", "unshare"] as const) {
    const iso = await detectIsolation(workDir, [join(root, "updraft-pilot.bench")], "auto", [tool]);
    if (iso.kind !== "namespaces") throw new Error(`no isolation here: ${iso.reason}`);
    results.push([tool, await timeJobs(workDir, iso)]);
  }
  rmSync(root, { recursive: true, force: true });
  const load1 = loadavg()[0];
  for (const [name, r] of results) {
    const line = (what: string, value: number) =>
      `${JSON.stringify({ bench: `isolation.job_${what}_${name}`, value, jobs: JOBS, load1 })}\n`;
    process.stdout.write(line("wall_ms", r.wallMs) + line("cpu_ms", r.cpuMs));
  }
}
