/**
 * Pilot benchmark: one 8-CPU pilot running `/bin/true` jobs back to back. Jobs come from the
 * in-memory job source used by the tests (no schedd, no network), so the figure is the pilot's
 * own cost per job: claim, sandbox, spawn, wait, report, clean up. One more figure runs the whole
 * pilot process against a real schedd (in this process, over TLS on localhost).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { systemClock } from "../src/common/clock.js";
import { connectReal } from "../src/pilot/connect.js";
import { planLifetime } from "../src/pilot/lifetime.js";
import { runPilotProcess } from "../src/pilot/pilot-main.js";
import { resolveSettings } from "../src/pilot/settings.js";
import { runPilot } from "../src/pilot/run-pilot.js";
import { createNodeView, runValidation } from "../src/pilot/validate/index.js";
import {
  InMemoryAdvertiserDouble,
  InMemoryJobSourceDouble,
} from "../test/pilot/doubles/in-memory-job-source.js";
import { job, startEnv, submit } from "../test/schedd/harness.js";

const JOBS = 1500;

export async function run(): Promise<void> {
  await validateToFirstClaim();
  await jobsPerSecond();
  await startupToFirstClaim();
}

/**
 * An installed pilot (no bootstrap or staging download) from process start to its first job
 * claimed from a real schedd: start marker, validation, TLS connections, advertise, claim.
 */
async function startupToFirstClaim(): Promise<void> {
  const env = await startEnv();
  const dir = mkdtempSync(join(tmpdir(), "updraft-bench-pilot-"));
  try {
    // The bootstrap script creates the work directory before starting the pilot.
    mkdirSync(join(dir, "work"));
    const credential = join(dir, "pilot.pem");
    writeFileSync(credential, env.creds.pilot.certPem + env.creds.pilot.keyPem, { mode: 0o600 });
    await submit(env.client("alice"), [job({ Cmd: '"/bin/true"', RequestMemory: "10" })]);
    const r = resolveSettings(
      {
        workDir: join(dir, "work"),
        schedd: [env.schedd.url()],
        credential,
        trustDir: env.pki.caDir,
        maxWalltime: 3600,
        maxIdle: 0.1,
        grace: 10,
      },
      {},
      () => "bench",
    );
    if (!r.ok) throw new Error(r.problems.join("; "));
    let firstClaim = 0;
    let report = "";
    const t0 = performance.now();
    const code = await runPilotProcess(r.settings, {
      view: createNodeView({ paths: { workDir: r.settings.workDir } }),
      write: (t) => (report += t),
      async connect(s) {
        const conn = await connectReal(s);
        for (const src of conn.sources) {
          const claim = src.claim.bind(src);
          src.claim = async (ad) => {
            const lease = await claim(ad);
            if (lease && !firstClaim) firstClaim = performance.now();
            return lease;
          };
        }
        return conn;
      },
    });
    if (code !== 0 || !firstClaim)
      throw new Error(`pilot exited ${code} without a claim:\n${report}`);
    process.stdout.write(
      `${JSON.stringify({
        bench: "pilot.startup_to_first_claim_ms",
        value: Math.round((firstClaim - t0) * 10) / 10,
        scope: "installed pilot: validation, TLS connect, first claim; no staging download",
        source: "real schedd (in-process, localhost TLS), no collector",
      })}\n`,
    );
  } finally {
    await env.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Validation of this node, first advertisement and first claim, in one process. */
async function validateToFirstClaim(): Promise<void> {
  const workDir = mkdtempSync(join(tmpdir(), "updraft-bench-pilot-"));
  const source = new InMemoryJobSourceDouble("bench@memory");
  source.submit('[ Cmd = "/bin/true"; Requirements = true ]');
  let firstClaim = 0;
  const claim = source.claim.bind(source);
  source.claim = async (ad) => {
    const lease = await claim(ad);
    if (lease && !firstClaim) firstClaim = performance.now();
    return lease;
  };
  const t0 = performance.now();
  const v = await runValidation(createNodeView({ paths: { workDir } }), {});
  if (!v.resources) throw new Error(`validation failed: ${JSON.stringify(v.failure)}`);
  await runPilot({
    clock: systemClock,
    plan: planLifetime({ maxWalltimeS: 3600, maxIdleS: 0.1, graceS: 10 }, Date.now(), () => 0),
    identity: { pilotId: "bench", host: "localhost" },
    resources: v.resources,
    nodeAttrs: v.attrs,
    published: {},
    workDir,
    sources: [source],
    advertiser: new InMemoryAdvertiserDouble(),
  });
  rmSync(workDir, { recursive: true, force: true });
  process.stdout.write(
    `${JSON.stringify({
      bench: "pilot.validate_to_first_claim_ms",
      value: Math.round((firstClaim - t0) * 10) / 10,
      scope: "validation, advertise, first claim; no bootstrap download, no network",
      source: "in-memory",
    })}\n`,
  );
}

async function jobsPerSecond(): Promise<void> {
  const workDir = mkdtempSync(join(tmpdir(), "updraft-bench-pilot-"));
  const source = new InMemoryJobSourceDouble("bench@memory");
  for (let i = 0; i < JOBS; i++) {
    source.submit(
      '[ Cmd = "/bin/true"; RequestCpus = 1; RequestMemory = 10; Requirements = true ]',
    );
  }
  let lastDone = 0;
  const complete = source.complete.bind(source);
  source.complete = async (lease, outcome) => {
    await complete(lease, outcome);
    lastDone = performance.now();
  };
  const t0 = performance.now();
  const result = await runPilot({
    clock: systemClock,
    plan: planLifetime({ maxWalltimeS: 3600, maxIdleS: 0.3, graceS: 10 }, Date.now(), () => 0),
    identity: { pilotId: "bench", host: "localhost" },
    resources: { cpus: 8, memoryMb: 16000, diskKb: 10_000_000, gpus: 0 },
    nodeAttrs: { OpSys: "LINUX", Arch: "X86_64" },
    published: {},
    workDir,
    sources: [source],
    advertiser: new InMemoryAdvertiserDouble(),
    claimRetryMs: 20,
    runnerOptions: { pollMs: 1000 },
  });
  rmSync(workDir, { recursive: true, force: true });
  const ok = result.jobs.filter((j) => j.disposition === "completed" && j.exitCode === 0).length;
  if (ok !== JOBS) throw new Error(`expected ${JOBS} completed jobs, got ${ok}`);
  const seconds = (lastDone - t0) / 1000;
  process.stdout.write(
    `${JSON.stringify({
      bench: "pilot.jobs_per_s",
      value: Math.round(JOBS / seconds),
      jobs: JOBS,
      cpus: 8,
      source: "in-memory",
    })}\n`,
  );
}
