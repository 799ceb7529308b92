/**
 * The demo pool (config/demo) for end-to-end tests: real daemons as child processes under
 * `up`, real local pilots, the real CLI for users. Each pool gets its own state folder and free
 * ports, so test files can run side by side.
 */
import { spawn } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { addDowntimeOnce, poolClients, type DemoClients } from "../../src/pool/demo.js";
import { distinctFreePorts } from "../../src/pool/ports.js";
import { packageRoot, up, type Pool } from "../../src/pool/up.js";

export interface TestPool {
  pool: Pool;
  clients: DemoClients;
  jobsDir: string;
  /** Lines the supervisor said (deaths, restarts). */
  said: string[];
  /** Run the updraft CLI as a pool user (alice unless `env` says otherwise). */
  cli(args: string[], env?: Record<string, string>): Promise<CliResult>;
  /** Submit examples/demo/<file> with the given count and sleep; returns the cluster id. */
  submit(file: string, count: number, sleepS: number): Promise<number>;
  close(): Promise<void>;
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export const DEMO_CONFIG = join(packageRoot(), "config", "demo");

/** The demo frontend's default pilot credential: minted per-pilot tokens. */
export const DEMO_TOKEN_CREDENTIALS =
  "  credentials: [{ type: pilot_tokens, security_class: demo, trust_domain: grid }]\n";

/** The pilot proxy in its place, as the demo frontend's comment shows it. */
export const DEMO_PROXY_CREDENTIALS = [
  "  credentials:",
  "    - file: ${UPDRAFT_STATE}/pki/pilot/proxy.pem",
  "      type: grid_proxy",
  "      security_class: demo",
  "      trust_domain: grid",
  "",
].join("\n");

const DEMO_REQUIRE_BINDING = "require_pilot_binding: true\n";

/**
 * config/demo copied to a new folder (removed by the caller) with the frontend handing every pilot
 * the pilot proxy instead of a token of its own: the X.509 configuration the demo also supports,
 * with the collector taking unbound Slot ads again.
 */
export function proxyDemoConfig(): string {
  const dir = mkdtempSync(join(tmpdir(), "updraft-demo-proxy-"));
  cpSync(DEMO_CONFIG, dir, { recursive: true });
  const file = join(dir, "frontend.yaml");
  const text = readFileSync(file, "utf8");
  if (!text.includes(DEMO_TOKEN_CREDENTIALS)) {
    throw new Error("config/demo/frontend.yaml no longer names pilot tokens as its credential");
  }
  writeFileSync(file, text.replace(DEMO_TOKEN_CREDENTIALS, DEMO_PROXY_CREDENTIALS));
  // The shared proxy carries no pilot binding: the demo collector would refuse its Slot ads.
  const collector = join(dir, "collector.yaml");
  const ctext = readFileSync(collector, "utf8");
  if (!ctext.includes(DEMO_REQUIRE_BINDING)) {
    throw new Error("config/demo/collector.yaml no longer requires pilot bindings");
  }
  writeFileSync(collector, ctext.replace(DEMO_REQUIRE_BINDING, "require_pilot_binding: false\n"));
  return dir;
}

export async function startTestPool(
  opts: {
    leaseS?: number;
    configDir?: string;
    /** Runs with the daemons' environment after the pool's PKI is made, before they start. */
    beforeStart?: (env: NodeJS.ProcessEnv) => void;
  } = {},
): Promise<TestPool> {
  const configDir = opts.configDir ?? DEMO_CONFIG;
  const stateDir = mkdtempSync(join(tmpdir(), "updraft-pool-"));
  // Every port from the kernel, none of the defaults: a pool another test starts or restarts at
  // the same moment must not race this one for 9618-9622.
  const [collector, schedd, factoryMetrics, frontendMetrics] = await distinctFreePorts(4);
  writeFileSync(
    join(stateDir, "ports.json"),
    JSON.stringify({ collector, schedd, factoryMetrics, frontendMetrics }),
  );
  if (opts.leaseS !== undefined) {
    process.env.UPDRAFT_LEASE_S = String(opts.leaseS);
  }
  const said: string[] = [];
  const pool = await up({
    configDir,
    stateDir,
    say: (l) => said.push(l),
    beforeStart: (env, cli) => {
      opts.beforeStart?.(env);
      addDowntimeOnce(stateDir, configDir)(env, cli);
    },
  });
  const clients = poolClients(pool);
  const jobsDir = join(stateDir, "jobs");
  mkdirSync(jobsDir, { recursive: true });
  const cli = (args: string[], env: Record<string, string> = {}) =>
    new Promise<CliResult>((resolve) => {
      const child = spawn(process.execPath, [pool.cli, ...args], {
        cwd: jobsDir,
        env: { ...process.env, ...pool.userEnv, ...env },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
      child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
      child.on("exit", (code) => resolve({ code, stdout, stderr }));
    });
  return {
    pool,
    clients,
    jobsDir,
    said,
    cli,
    async submit(file, count, sleepS) {
      const r = await cli(["submit", join(packageRoot(), "examples", "demo", file)], {
        UPDRAFT_DEMO_COUNT: String(count),
        UPDRAFT_DEMO_SLEEP: String(sleepS),
      });
      const m = /submitted to cluster (\d+)/.exec(r.stdout);
      if (r.code !== 0 || !m) throw new Error(`submit ${file}: ${r.stdout}${r.stderr}`);
      return Number(m[1]);
    },
    async close() {
      await clients.close();
      await pool.stop();
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}

/** Poll `check` every 250 ms until it returns a value, or fail after `ms` saying what waited. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined> | T | undefined,
  ms = 60_000,
): Promise<T> {
  const end = Date.now() + ms;
  let lastErr: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      lastErr = err;
    }
    if (Date.now() > end) {
      throw new Error(
        `timed out waiting for ${what}${lastErr ? ` (last error: ${String(lastErr)})` : ""}`,
      );
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Finished jobs of these clusters from the schedd's history, by job id. */
export async function history(
  tp: TestPool,
  clusters: readonly number[],
  projection: string[] = [],
): Promise<Record<string, string>[]> {
  const constraint = clusters.map((c) => `ClusterId == ${c}`).join(" || ");
  return tp.clients.schedd.query({
    constraint,
    history: true,
    projection: projection.length ? ["ClusterId", "ProcId", ...projection] : [],
  });
}

export const jobId = (a: Record<string, string>) => `${a.ClusterId}.${a.ProcId}`;
export const unquote = (v: string | undefined) =>
  v?.startsWith('"') ? (JSON.parse(v) as string) : v;
