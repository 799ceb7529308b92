/**
 * Schedd benchmark, all through the real RPC over mTLS:
 * - schedd.submit_jobs: one cluster of 100,000 jobs (reserve + SubmitJobs), jobs per second;
 * - schedd.idle_summary_ms: IdleSummary over 200,000 idle jobs in 500 autoclusters (median of 5
 *   calls after one warm-up);
 * - schedd.claim_complete: ClaimJob + CompleteJob cycles from 100 concurrent pilot connections
 *   against those 200,000 idle jobs, with the schedd's CPU time per cycle (user + system, from
 *   /proc), which the load of a shared machine disturbs less than the rate;
 * - schedd.claim_complete_carried: the same cycles with each completion carried by the pilot's
 *   next ClaimJob (SlotOffer.completions), one call per cycle, as pilots send them.
 */
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { stringify } from "yaml";
import { NO_EXIT, scheddClient, type ScheddClient } from "../src/schedd/client.js";
import type { JobAttrs } from "../src/schedd/job-status.js";
import { createRpcClient } from "../src/wire/index.js";
import { findPackageRoot } from "../src/wire/schema.js";
import { createTestPki, type TestPki } from "../test/helpers/pki.js";
import { readProcTimes } from "./lib/proc-cpu.js";

const PILOT = "/DC=org/DC=example/CN=pilot-bench";
const PILOTS = 100;
const CYCLES = 20_000;

function report(figures: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(figures)}\n`);
}

function seconds(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e9;
}

function jobAd(i: number): JobAttrs {
  return {
    Cmd: '"/usr/bin/cmsRun"',
    Arguments: `"config_${i}.py"`,
    RequestCpus: "1",
    RequestMemory: String(1000 + (i % 500)),
    RequestDisk: "2000000",
    DESIRED_Sites: '"T2_US_UCSD,T2_US_Purdue"',
    Requirements:
      "TARGET.Cpus >= RequestCpus && TARGET.Memory >= RequestMemory && TARGET.Disk >= RequestDisk",
    Iwd: '"/home/alice/analysis"',
    Out: `"out_${i}.txt"`,
    JobPrio: "0",
  };
}

function slotAd(i: number): JobAttrs {
  return {
    MyType: '"Machine"',
    Name: `"slot1@glidein_${i}"`,
    Cpus: "8",
    Memory: "16000",
    Disk: "100000000",
    GLIDEIN_Entry_Name: `"Entry_${i % 10}"`,
    GLIDEIN_CMSSite: '"T2_US_UCSD"',
    START: "TARGET.RequestCpus <= MY.Cpus",
    Requirements: "START",
  };
}

interface RunningSchedd {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

/** The schedd's CPU time so far (user + system), in milliseconds. */
function cpuMs(pid: number): number {
  const t = readProcTimes(pid);
  if (t === undefined) throw new Error(`schedd process ${pid} is gone`);
  return t.selfMs;
}

/** A real schedd process (pilots and users are remote in real life; TLS on both sides of one
 * event loop would halve what the schedd gets). */
async function startBenchSchedd(pki: TestPki, dir: string): Promise<RunningSchedd> {
  mkdirSync(dir, { recursive: true });
  const configFile = join(dir, "schedd.yaml");
  writeFileSync(
    configFile,
    stringify({
      listen: { host: "127.0.0.1", port: 0 },
      tls: { cert_file: pki.host.certFile, key_file: pki.host.keyFile, trust_dir: pki.caDir },
      state_dir: join(dir, "state"),
      log_level: "info",
      // One SubmitJobs of 100,000 jobs is about 30 MB, above the 4 MiB default.
      max_message_mb: 64,
      connections: { max_bytes_in_flight_mb: 64 },
      authorization: {
        rules: [
          { identity: pki.user.subject, roles: ["user", "frontend"] },
          { identity: PILOT, roles: ["pilot"] },
        ],
        default_roles: [],
      },
    }),
  );
  const bin = join(findPackageRoot(dirname(fileURLToPath(import.meta.url))), "bin", "updraft.js");
  // UPDRAFT_BENCH_PROFILE=DIR writes the schedd's CPU profile there (on SIGTERM).
  const prof = process.env.UPDRAFT_BENCH_PROFILE;
  const flags = prof ? ["--cpu-prof", `--cpu-prof-dir=${prof}`] : [];
  const child = spawn(process.execPath, [...flags, bin, "schedd", "--config", configFile], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const url = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout }).on("line", (line) => {
      const rec = JSON.parse(line) as { msg?: string; url?: string };
      if (rec.msg === "schedd ready") resolve(rec.url!);
    });
    child.once("exit", (code) => reject(new Error(`schedd exited (${code})`)));
  });
  return {
    url,
    pid: child.pid!,
    stop: async () => {
      const gone = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await gone;
    },
  };
}

function userClient(pki: TestPki, url: string): ScheddClient {
  return scheddClient(
    createRpcClient({
      url,
      caDir: pki.caDir,
      credentialFile: pki.proxy.file,
      maxFrameSize: 64 * 1024 * 1024,
      defaultDeadlineMs: 600_000,
    }),
  );
}

async function submitCluster(c: ScheddClient, from: number, n: number): Promise<void> {
  const jobs = Array.from({ length: n }, (_, i) => jobAd(from + i));
  const id = await c.newCluster();
  await c.submitJobs(id, jobs);
}

export async function run(): Promise<void> {
  const pki = createTestPki();
  const dir = mkdtempSync(join(tmpdir(), "updraft-bench-schedd-"));
  try {
    // 1. submit
    let schedd = await startBenchSchedd(pki, join(dir, "a"));
    let user = userClient(pki, schedd.url);
    await user.rpc.connected();
    const jobs = Array.from({ length: 100_000 }, (_, i) => jobAd(i));
    let t = process.hrtime.bigint();
    const id = await user.newCluster();
    await user.submitJobs(id, jobs);
    report({ bench: "schedd.submit_jobs", ops_per_s: Math.round(100_000 / seconds(t)) });
    await user.rpc.close();
    await schedd.stop();

    // 2. idle summary over 200,000 idle jobs in 500 autoclusters
    schedd = await startBenchSchedd(pki, join(dir, "b"));
    user = userClient(pki, schedd.url);
    await submitCluster(user, 0, 100_000);
    await submitCluster(user, 100_000, 100_000);
    await user.idleSummary("", ["RequestMemory", "DESIRED_Sites"]);
    const times: number[] = [];
    for (let i = 0; i < 5; i++) {
      t = process.hrtime.bigint();
      const s = await user.idleSummary("", ["RequestMemory", "DESIRED_Sites"]);
      times.push(seconds(t) * 1000);
      if (s.idleTotal !== 200_000 || s.groups.length !== 500) {
        throw new Error(`unexpected summary: ${s.idleTotal} jobs in ${s.groups.length} groups`);
      }
    }
    times.sort((a, b) => a - b);
    report({ bench: "schedd.idle_summary_ms", value: Math.round(times[2]! * 10) / 10 });

    // 3. claim + complete from 100 pilot connections
    const pilotCred = pki.issueUser(PILOT);
    const pilots = Array.from({ length: PILOTS }, () =>
      scheddClient(
        createRpcClient({
          url: schedd.url,
          caDir: pki.caDir,
          certPem: pilotCred.certPem,
          keyPem: pilotCred.keyPem,
        }),
      ),
    );
    await Promise.all(pilots.map((p) => p.rpc.connected()));
    let left = CYCLES;
    const cpuBefore = cpuMs(schedd.pid);
    t = process.hrtime.bigint();
    await Promise.all(
      pilots.map(async (p, i) => {
        const ad = slotAd(i);
        while (left-- > 0) {
          const offer = await p.claimJob(ad);
          if (!offer.matched) throw new Error("no match with idle jobs left");
          await p.completeJob({ leaseId: offer.leaseId, exitCode: 0 });
        }
      }),
    );
    const wall = seconds(t);
    const cpuPerCycle = (cpuMs(schedd.pid) - cpuBefore) / CYCLES;
    report({
      bench: "schedd.claim_complete",
      ops_per_s: Math.round(CYCLES / wall),
      schedd_cpu_us_per_op: Math.round(cpuPerCycle * 1000),
      load_avg_1m: Math.round(loadavg()[0]! * 10) / 10,
    });

    // 4. the same cycles with each completion carried by the pilot's next claim (one call each)
    left = CYCLES;
    const cpuBeforeCarried = cpuMs(schedd.pid);
    t = process.hrtime.bigint();
    await Promise.all(
      pilots.map(async (p, i) => {
        const ad = slotAd(i);
        let ended: string | undefined;
        while (left-- > 0) {
          const completions = ended === undefined ? [] : [{ ...NO_EXIT, leaseId: ended }];
          const offer = await p.claimJob(ad, 0, undefined, { completions });
          if (!offer.matched) throw new Error("no match with idle jobs left");
          if (completions.length > 0 && offer.completions?.[0]?.jobStatus !== 4) {
            throw new Error(
              `a carried completion was not taken: ${JSON.stringify(offer.completions)}`,
            );
          }
          ended = offer.leaseId;
        }
        if (ended !== undefined) await p.completeJob({ leaseId: ended, exitCode: 0 });
      }),
    );
    const wallCarried = seconds(t);
    report({
      bench: "schedd.claim_complete_carried",
      ops_per_s: Math.round(CYCLES / wallCarried),
      schedd_cpu_us_per_op: Math.round(((cpuMs(schedd.pid) - cpuBeforeCarried) / CYCLES) * 1000),
      load_avg_1m: Math.round(loadavg()[0]! * 10) / 10,
    });
    for (const p of pilots) await p.rpc.close();
    await user.rpc.close();
    await schedd.stop();
  } finally {
    rmSync(dir, { recursive: true, force: true });
    pki.cleanup();
  }
}
