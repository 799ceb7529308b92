/**
 * `updraft up`: a whole pool on one machine from a config folder. Makes the development PKI and
 * chooses ports (both kept in the state folder), starts the daemons under a Supervisor, writes
 * `env.sh` for users' shells, and on stop removes the pilots the factory left running (a factory
 * leaves its pilots alone when it stops, so that a restart reattaches them; the pool going away
 * is the one time they must go too).
 */
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { createLogger } from "../common/logger.js";
import { defaultAdapterRegistry } from "../factory/adapters/registry.js";
import { adapterStateDir, loadFactoryConfig } from "../factory/config.js";
import { loadConfigFile } from "../common/config.js";
import { collectorUrls } from "../common/config-blocks.js";
import { SCHEDD_RENAMES, scheddConfigSchema } from "../schedd/config.js";
import { findPackageRoot } from "../wire/schema.js";
import { ensureDevPki, type DevPki } from "./dev-pki.js";
import { ensureDevTokens } from "./dev-tokens.js";
import { choosePorts, instancePorts, portEnvName, type PoolPorts } from "./ports.js";
import { daemonsIn, kindOf, Supervisor, type DaemonName, type DaemonSpec } from "./supervisor.js";
import { UpdraftError } from "../common/errors.js";

export interface UpOptions {
  configDir: string;
  stateDir: string;
  /** Make (or reuse) the development PKI under `<state>/pki`. */
  devPki?: boolean;
  say?: (line: string) => void;
  /** Runs once the PKI, ports and environment are ready, before any daemon starts. */
  beforeStart?: (daemonEnv: NodeJS.ProcessEnv, cli: string) => void;
}

export interface Pool {
  stateDir: string;
  configDir: string;
  ports: PoolPorts;
  collectorUrl: string;
  scheddUrl: string;
  /** What `<state>/endpoints.json` says: where to scrape and where the page is. */
  endpoints: PoolEndpoints;
  pki?: DevPki;
  /** The environment a user's shell needs (also written to env.sh). */
  userEnv: Record<string, string>;
  envFile: string;
  /** The Updraft CLI script the daemons run (bin/updraft.js). */
  cli: string;
  supervisor: Supervisor;
  /** Daemon instances in start order (`collector`, `collector-b`, `schedd`...). */
  daemons: string[];
  stop(): Promise<void>;
}

export type PoolEndpoints = {
  metrics: Partial<Record<DaemonName, string>>;
  web: string;
};

/**
 * The monitoring addresses of a one-machine pool, as the demo configs set them up: /metrics of
 * each daemon the folder has (the collector and schedd on their RPC port, the factory and
 * frontend on their metrics listeners) and the collector's pool page.
 */
export function poolEndpoints(ports: PoolPorts, daemons: readonly DaemonName[]): PoolEndpoints {
  const port: Record<DaemonName, number> = {
    collector: ports.collector,
    schedd: ports.schedd,
    factory: ports.factoryMetrics,
    frontend: ports.frontendMetrics,
  };
  const metrics: Partial<Record<DaemonName, string>> = {};
  for (const d of daemons) metrics[d] = `https://localhost:${port[d]}/metrics`;
  return { metrics, web: `https://localhost:${ports.collector}/pool` };
}

export const packageRoot = () => findPackageRoot(dirname(fileURLToPath(import.meta.url)));

const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** How to open the pool page, written into env.sh beside the variables it names. */
export const OPEN_PAGE_HINT =
  "# The pool page: open $UPDRAFT_WEB in a browser that holds the monitor certificate,\n" +
  '#   openssl pkcs12 -export -passout pass: -in "$UPDRAFT_MONITOR_CERT" -inkey "$UPDRAFT_MONITOR_KEY" -out monitor.p12\n' +
  "# then import monitor.p12 (and the pool's pki/ca.pem as an authority); see the README.\n";

export function envScript(env: Record<string, string>): string {
  return (
    "# Updraft pool environment: . this file, then updraft submit / q / status.\n" +
    (env.UPDRAFT_WEB && env.UPDRAFT_MONITOR_CERT ? OPEN_PAGE_HINT : "") +
    Object.entries(env)
      .map(([k, v]) => `export ${k}=${shellQuote(v)}\n`)
      .join("")
  );
}

/**
 * The users' pool as UPDRAFT_POOL names it, commas between collectors: every collector the
 * folder's schedd reports to (both of a highly available pair), where users' jobs and slots
 * are; without a schedd, the folder's collector. A collector that is another VO's own pool
 * (collector-beta of demo-two-vos) is not the users' pool and is left out.
 */
export function userPool(
  specs: readonly DaemonSpec[],
  env: NodeJS.ProcessEnv,
  collectorUrl: string,
): string {
  const schedd = specs.find((s) => s.name === "schedd");
  if (!schedd) return collectorUrl;
  const { collector } = loadConfigFile(scheddConfigSchema, schedd.configFile, env, SCHEDD_RENAMES);
  return collector ? collectorUrls(collector).join(",") : collectorUrl;
}

/** The pool could not be started: a message for the user, not a fault of the program. */
export class PoolStartError extends UpdraftError {
  readonly code = "pool-start";
  override name = "PoolStartError";
}

/**
 * What the development PKI makes besides the usual: a host certificate per further daemon
 * (`frontend-vo2` is CN=frontend-vo2) and a pilot proxy per further frontend (`pilot-vo2`), so
 * that each VO of a folder has credentials of its own.
 */
function devIdentities(instances: readonly string[]) {
  const extra = instances.filter((n) => n !== kindOf(n));
  return {
    services: extra,
    pilots: extra
      .filter((n) => kindOf(n) === "frontend")
      .map((n) => `pilot${n.slice("frontend".length)}`),
  };
}

export async function up(opts: UpOptions): Promise<Pool> {
  try {
    return await startPool(opts);
  } catch (err) {
    if (err instanceof PoolStartError) throw err;
    throw new PoolStartError(`cannot start the pool: ${(err as Error).message}`, { cause: err });
  }
}

async function startPool(opts: UpOptions): Promise<Pool> {
  const say = opts.say ?? (() => {});
  const configDir = resolve(opts.configDir);
  const stateDir = resolve(opts.stateDir);
  if (!existsSync(configDir)) throw new Error(`${configDir}: no such config folder`);
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const home = packageRoot();
  const instances = daemonsIn(configDir, {}).map((s) => s.name);
  const pki =
    opts.devPki === false
      ? undefined
      : ensureDevPki(join(stateDir, "pki"), Date.now(), devIdentities(instances));
  if (pki) await ensureDevTokens(stateDir);
  // Further collectors and schedds (collector-b.yaml, schedd-vo2.yaml) get ports of their own.
  const extraListeners = instances.filter(
    (n) => n !== kindOf(n) && (kindOf(n) === "collector" || kindOf(n) === "schedd"),
  );
  const ports = await choosePorts(stateDir, extraListeners);
  const daemonEnv: NodeJS.ProcessEnv = {
    ...process.env,
    UPDRAFT_STATE: stateDir,
    UPDRAFT_HOME: home,
    UPDRAFT_COLLECTOR_PORT: String(ports.collector),
    UPDRAFT_SCHEDD_PORT: String(ports.schedd),
    UPDRAFT_FACTORY_METRICS_PORT: String(ports.factoryMetrics),
    UPDRAFT_FRONTEND_METRICS_PORT: String(ports.frontendMetrics),
    ...Object.fromEntries(
      Object.entries(ports.extra ?? {}).map(([n, p]) => [portEnvName(n), String(p)]),
    ),
  };
  const specs = daemonsIn(configDir, instancePorts(ports));
  if (specs.length === 0) {
    throw new Error(
      `${configDir} holds none of collector.yaml, schedd.yaml, factory.yaml, frontend.yaml`,
    );
  }
  const cli = join(home, "bin", "updraft.js");
  opts.beforeStart?.(daemonEnv, cli);
  const supervisor = new Supervisor({
    cli,
    env: daemonEnv,
    logDir: join(stateDir, "log"),
    say,
  });
  const collectorUrl = `wss://localhost:${ports.collector}/`;
  const scheddUrl = `wss://localhost:${ports.schedd}/`;
  const userEnv: Record<string, string> = {
    UPDRAFT_POOL: userPool(specs, daemonEnv, collectorUrl),
    UPDRAFT_SCHEDD: scheddUrl,
    // What the config files refer to, so `updraft factory --config ... status` works too.
    UPDRAFT_STATE: stateDir,
    UPDRAFT_HOME: home,
    UPDRAFT_COLLECTOR_PORT: String(ports.collector),
    UPDRAFT_SCHEDD_PORT: String(ports.schedd),
    ...Object.fromEntries(
      Object.entries(ports.extra ?? {}).map(([n, p]) => [portEnvName(n), String(p)]),
    ),
    ...(pki ? { X509_USER_PROXY: pki.userProxy("alice"), X509_CERT_DIR: pki.trustDir } : {}),
  };
  const endpoints = poolEndpoints(
    ports,
    specs.filter((s) => s.name === s.kind).map((s) => s.kind),
  );
  if (pki) {
    userEnv.UPDRAFT_WEB = endpoints.web;
    userEnv.UPDRAFT_MONITOR_CERT = pki.monitor.certFile;
    userEnv.UPDRAFT_MONITOR_KEY = pki.monitor.keyFile;
  }
  const envFile = join(stateDir, "env.sh");
  writeFileSync(envFile, envScript(userEnv));
  writeFileSync(join(stateDir, "endpoints.json"), JSON.stringify(endpoints, null, 2) + "\n");

  const stop = async () => {
    const factories = specs.filter((s) => s.kind === "factory");
    if (factories.length > 0) {
      // No new pilots first; then the pilots go while the schedd and collector still answer,
      // so they hand their jobs back at once instead of waiting out their kill grace.
      const provisioners = specs.filter((s) => s.kind === "frontend" || s.kind === "factory");
      await supervisor.stop(
        undefined,
        provisioners.map((s) => s.name),
      );
      for (const f of factories) await removePilots(f.configFile, daemonEnv, say);
    }
    await supervisor.stop();
  };
  try {
    await supervisor.start(specs);
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    stateDir,
    configDir,
    ports,
    collectorUrl,
    scheddUrl,
    endpoints,
    pki,
    userEnv,
    envFile,
    cli,
    supervisor,
    daemons: specs.map((s) => s.name),
    stop,
  };
}

/**
 * Remove every pilot the factory's adapters still know, and wait until none runs: the adapter
 * sends SIGTERM first (a pilot then hands its jobs back) and SIGKILL after its grace.
 */
export async function removePilots(
  factoryConfig: string,
  env: NodeJS.ProcessEnv,
  say: (line: string) => void,
): Promise<number> {
  const cfg = loadFactoryConfig(factoryConfig, env);
  const registry = defaultAdapterRegistry();
  const logger = createLogger({ name: "up", level: "silent" });
  let removed = 0;
  await Promise.all(
    cfg.entries.map(async (e) => {
      const make = registry.get(e.gridtype);
      const stateDir = adapterStateDir(cfg, e.name);
      if (!make || !existsSync(stateDir)) return;
      const adapter = make(e.adapter, { stateDir, logger, now: Date.now });
      try {
        const live = (await adapter.recover())
          .filter((p) => p.status.state === "Running" || p.status.state === "Idle")
          .map((p) => p.handle);
        if (live.length === 0) return;
        removed += live.length;
        await adapter.remove(live);
        // The adapter escalates to SIGKILL after its own grace; wait for that to happen.
        const end = Date.now() + 30_000;
        while (Date.now() < end) {
          const states = await adapter.status(live);
          if (![...states.values()].some((s) => s.state === "Running")) break;
          await new Promise((r) => setTimeout(r, 200));
        }
      } finally {
        await adapter.close();
      }
    }),
  );
  if (removed > 0) say(`removed ${removed} pilot${removed === 1 ? "" : "s"}`);
  return removed;
}
