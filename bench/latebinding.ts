/**
 * Late-binding benchmark: the same N short jobs (`sleep 0.2`) on the same real single-node Slurm
 * (2 CPUs, so 2 slots either way), run
 *  (a) directly: one `sbatch` per job, all submitted at once, timed until Slurm has run them all;
 *  (b) through Updraft: the jobs queued in a real schedd (with a real collector), 2 one-CPU
 *      pilots submitted to the same Slurm through the `slurm` adapter, timed from the pilots'
 *      submission until the schedd has every job completed.
 * Both clocks start before anything is submitted to Slurm, so (b) pays for its pilots' queueing
 * and start-up. Prints direct_jobs_per_s, pilot_jobs_per_s (with the first job's time and when
 * each pilot process started) and speedup (b over a).
 *
 * What limits each: (a) is Slurm's own job cycle, per job: the scheduler pass that starts it
 * (triggered on job end, then spaced), the slurmd launch, the batch step and its completion;
 * (b) is the pilot's per-job cost: claim over TLS, sandbox, fork/exec, complete, next claim.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { pino } from "pino";
import { collectorConfigSchema } from "../src/collector/config.js";
import { createSlurmAdapter } from "../src/factory/adapters/slurm/slurm-adapter.js";
import { startCollector, type Pool } from "../test/collector/harness.js";
import { startSlurm, type SlurmPeer } from "../test/helpers/slurm-peer.js";
import { DN, job, startEnv, submit, type TestEnv } from "../test/schedd/harness.js";

const JOBS = Number(process.env.LATEBINDING_JOBS ?? 60);
const WORK = "0.2";
const here = dirname(fileURLToPath(import.meta.url));
/** bin/updraft.js of this checkout (dist/bench/ -> repository root). */
const UPDRAFT = join(here, "..", "..", "bin", "updraft.js");

function emit(bench: string, value: number, extra: Record<string, unknown>): void {
  process.stdout.write(
    `${JSON.stringify({ bench, value: Math.round(value * 100) / 100, ...extra })}\n`,
  );
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** How often the pilot side looks at its pilots' Slurm state while it waits for the jobs. */
const PILOT_CHECK_MS = 2000;

async function direct(peer: SlurmPeer): Promise<number> {
  const t0 = performance.now();
  const ids: string[] = [];
  for (let i = 0; i < JOBS; i++) {
    ids.push(
      peer
        .cmd("sbatch", [
          "--parsable",
          "--job-name=latebinding-direct",
          "--cpus-per-task=1",
          "--mem=100",
          "--output=/dev/null",
          `--wrap=sleep ${WORK}`,
        ])
        .trim(),
    );
  }
  const wanted = new Set(ids);
  for (;;) {
    const left = peer
      .cmd("squeue", ["-h", "-t", "PD,R,CG,CF", "-o", "%i"])
      .split("\n")
      .filter((id) => wanted.has(id.trim())).length;
    if (left === 0) break;
    await sleep(100);
  }
  const s = (performance.now() - t0) / 1000;
  const states = peer.cmd("squeue", ["-h", "-t", "all", "-o", "%i %T"]);
  const completed = states
    .split("\n")
    .filter((l) => wanted.has(l.split(" ")[0]!) && l.endsWith("COMPLETED"));
  if (completed.length !== JOBS)
    throw new Error(`direct: ${completed.length} of ${JOBS} jobs COMPLETED`);
  return JOBS / s;
}

async function throughPilots(
  peer: SlurmPeer,
  env: TestEnv,
  collectorUrl: string,
): Promise<{ rate: number; firstJobS: number; pilotsStartedS: (number | null)[] }> {
  const dir = mkdtempSync(join(tmpdir(), "updraft-bench-latebinding-"));
  try {
    const credential = join(dir, "pilot.pem");
    writeFileSync(credential, env.creds.pilot.certPem + env.creds.pilot.keyPem, { mode: 0o600 });
    const alice = env.client("alice");
    const cluster = await submit(
      alice,
      Array.from({ length: JOBS }, () =>
        job({
          // The node's own /bin/sleep: a pilot runs only an executable the job staged, unless
          // the job says it is not transferred.
          Cmd: '"/bin/sleep"',
          TransferExecutable: "false",
          Arguments: `"${WORK}"`,
          RequestMemory: "64",
          RequestDisk: "1000",
        }),
      ),
    );
    const adapter = createSlurmAdapter(
      { slurm_conf: peer.conf, cpus: 1, memory_mb: 500 },
      { stateDir: join(dir, "adapter"), logger: pino({ level: "silent" }), now: () => Date.now() },
    );
    const t0 = performance.now();
    const wall0 = Date.now();
    const pilot = (intentId: number) => ({
      intentId,
      command: process.execPath,
      args: [
        UPDRAFT,
        "pilot",
        "run",
        "--collector",
        collectorUrl,
        "--schedd",
        env.schedd.url(),
        "--trust-dir",
        env.pki.caDir,
        // Long enough for any start-up under load (only a pilot that never claims waits it out);
        // once its jobs ran, a pilot leaves 5 s after the queue is empty.
        "--max-idle",
        "120",
        "--max-tail",
        "5",
        "--max-walltime",
        "600",
      ],
      env: {},
      credentialFile: credential,
      resources: { cpus: 1, memoryMb: 500, walltimeS: 600 },
    });
    const results = await adapter.submit([pilot(1), pilot(2)]);
    const handles = results.map((r) => {
      if (!r.ok) throw new Error(`pilot submission failed: ${r.error}`);
      return r.handle;
    });
    let done = 0;
    let firstDone = 0;
    let pilotsCheckedAt = 0;
    const end = Date.now() + 240_000;
    while (done < JOBS) {
      if (Date.now() > end)
        throw new Error(`through pilots: ${done} of ${JOBS} jobs completed in 240 s`);
      // Only the status, so that watching costs the pilots and the schedd little CPU.
      const jobs = await alice.query({
        constraint: `ClusterId == ${cluster}`,
        history: true,
        projection: ["JobStatus"],
      });
      done = jobs.filter((j) => j.JobStatus === "4").length;
      if (done > 0 && firstDone === 0) firstDone = performance.now();
      // A pilot that ended early aborts the run, but looking costs a squeue --json (about 20 ms
      // of CPU, and the controller's): every 2 s, not at every poll, as the direct side's light
      // squeue is.
      if (done < JOBS && Date.now() - pilotsCheckedAt >= PILOT_CHECK_MS) {
        pilotsCheckedAt = Date.now();
        const st = await adapter.status(handles);
        const bad = [...st.values()].find((s) => s.state === "Held" || s.state === "Finished");
        if (bad && done < JOBS) {
          const out = await adapter.fetchOutput(bad.handle);
          throw new Error(
            `a pilot ended early (${JSON.stringify(bad)}):\n${out.stdout}\n${out.stderr}`,
          );
        }
      }
      if (done < JOBS) await sleep(100);
    }
    const s = (performance.now() - t0) / 1000;
    // The pilots leave on their idle limit; wait so they do not outlive the benchmark.
    const stop = Date.now() + 60_000;
    while (Date.now() < stop) {
      const st = await adapter.status(handles);
      if ([...st.values()].every((x) => x.state === "Finished" || x.state === "Removed")) break;
      await sleep(250);
    }
    // Each pilot's start marker: Slurm's queueing and launch, then Node's start and the pilot's
    // modules, before any of the pilot's own work.
    const pilotsStartedS = await Promise.all(
      handles.map(async (h) => {
        const m = /=== Pilot starting (\S+) ===/.exec((await adapter.fetchOutput(h)).stdout);
        return m ? Math.round((Date.parse(m[1]!) - wall0) / 100) / 10 : null;
      }),
    );
    await adapter.remove(handles);
    await adapter.close();
    return { rate: JOBS / s, firstJobS: (firstDone - t0) / 1000, pilotsStartedS };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function run(): Promise<void> {
  const peer = await startSlurm();
  const env = await startEnv();
  const collector = await startCollector(
    { pki: env.pki } as Pool,
    collectorConfigSchema.parse({
      name: "collector@latebinding",
      listen: { host: "127.0.0.1", port: 0 },
      tls: {
        cert_file: env.pki.host.certFile,
        key_file: env.pki.host.keyFile,
        trust_dir: env.pki.caDir,
      },
      authorization: { rules: [{ identity: DN.pilot, roles: ["pilot", "read"] }] },
    }),
  );
  try {
    const a = await direct(peer);
    const b = await throughPilots(peer, env, collector.url);
    const common = {
      jobs: JOBS,
      work_s: Number(WORK),
      slots: 2,
      source: "real Slurm 22.05, single node, 2 CPUs",
    };
    emit("latebinding.direct_jobs_per_s", a, {
      ...common,
      limit: "Slurm's per-job cycle: scheduler pass, slurmd launch, batch step, completion",
    });
    emit("latebinding.pilot_jobs_per_s", b.rate, {
      ...common,
      // Submission to the first completed job: the pilots' queueing and start-up, paid once.
      first_job_s: Math.round(b.firstJobS * 10) / 10,
      // Submission to each pilot's start marker: Slurm's share of first_job_s and the pilot's
      // module load (Slurm's scheduling passes are at least 3 s apart, so a pilot may wait up
      // to that for its allocation).
      pilots_started_s: b.pilotsStartedS,
      limit:
        "per job in a pilot: claim over TLS, sandbox, fork/exec, complete; plus the pilots' own Slurm start",
    });
    emit("latebinding.speedup", b.rate / a, { ...common, target: 10 });
  } finally {
    await collector.stop();
    await env.close();
    await peer.stop();
  }
}
