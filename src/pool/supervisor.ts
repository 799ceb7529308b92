/**
 * Runs the daemons a config folder describes as child processes, like HTCondor's condor_master:
 * each a real `updraft <daemon> run --config FILE` process with its log in `<state>/log/`, started in
 * order (collectors first), restarted with back-off when it dies, stopped in reverse order. A
 * folder may hold several daemons of a kind (`collector-b.yaml`, `frontend-vo2.yaml`): each is
 * an instance named after its file.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, openSync, closeSync, readdirSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { EXIT } from "../common/exit-codes.js";

export const DAEMON_ORDER = ["collector", "schedd", "factory", "frontend"] as const;
export type DaemonName = (typeof DAEMON_ORDER)[number];

const ARGS: Record<DaemonName, (config: string) => string[]> = {
  collector: (c) => ["collector", "run", "--config", c],
  schedd: (c) => ["schedd", "run", "--config", c],
  factory: (c) => ["factory", "run", "--config", c],
  frontend: (c) => ["frontend", "run", "--config", c],
};

export interface DaemonSpec {
  /** The instance: its file's name without `.yaml` (`collector`, `collector-b`). */
  name: string;
  kind: DaemonName;
  configFile: string;
  /** A loopback port that accepts connections once the daemon is ready. */
  port?: number;
}

/** `<kind>.yaml` or `<kind>-<suffix>.yaml`, the suffix letters, digits and dashes. */
const DAEMON_FILE = /^(collector|schedd|factory|frontend)(-[a-z0-9][a-z0-9-]{0,30})?\.yaml$/;

/** The kind of a daemon instance by its name (`schedd-vo2` is a schedd). */
export function kindOf(name: string): DaemonName {
  const m = DAEMON_FILE.exec(`${name}.yaml`);
  if (!m) throw new Error(`${name} is not a daemon instance name`);
  return m[1] as DaemonName;
}

/**
 * The daemons whose `<kind>[-<suffix>].yaml` is in the folder, in start order: by kind, then the
 * plain `<kind>.yaml` first, then by name. `ports` gives the port each instance listens on.
 */
export function daemonsIn(configDir: string, ports: Readonly<Record<string, number>>) {
  const names = readdirSync(configDir)
    .filter((f) => DAEMON_FILE.test(f))
    .map((f) => f.slice(0, -".yaml".length));
  const rank = (n: string) => DAEMON_ORDER.indexOf(kindOf(n));
  names.sort((a, b) => rank(a) - rank(b) || a.length - b.length || a.localeCompare(b));
  return names.map((name): DaemonSpec => ({
    name,
    kind: kindOf(name),
    configFile: join(configDir, `${name}.yaml`),
    port: ports[name],
  }));
}

export interface SupervisorOptions {
  cli: string;
  env: NodeJS.ProcessEnv;
  logDir: string;
  /** Told about starts, deaths and restarts, one line each. */
  say: (line: string) => void;
  startTimeoutMs?: number;
}

interface Running {
  spec: DaemonSpec;
  child?: ChildProcess;
  startedAt: number;
  restarts: number;
  timer?: NodeJS.Timeout;
  /** Stopped on purpose: not restarted when it exits. */
  stopped?: boolean;
}

/** Back-off before restart number `n` (1-based): 1, 2, 4... seconds, at most 30. */
export const restartDelayMs = (n: number) => Math.min(30_000, 1000 * 2 ** Math.max(0, n - 1));

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: "127.0.0.1", port });
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
}

export class Supervisor {
  private readonly running = new Map<string, Running>();
  private stopping = false;

  constructor(private readonly opts: SupervisorOptions) {
    mkdirSync(opts.logDir, { recursive: true });
  }

  pid(name: string): number | undefined {
    return this.running.get(name)?.child?.pid;
  }

  logFile(name: string): string {
    return join(this.opts.logDir, `${name}.log`);
  }

  /** Start each daemon in turn, waiting for its port (when it has one) before the next. */
  async start(specs: readonly DaemonSpec[]): Promise<void> {
    for (const spec of specs) {
      const r: Running = { spec, startedAt: 0, restarts: 0 };
      this.running.set(spec.name, r);
      this.launch(r);
      if (spec.port !== undefined) await this.waitReady(r);
    }
  }

  /** Start a daemon again now (after a test or an operator killed it, say). */
  async restart(name: string): Promise<void> {
    const r = this.running.get(name);
    if (!r) throw new Error(`${name} is not part of this pool`);
    if (r.timer) clearTimeout(r.timer);
    r.timer = undefined;
    if (!r.child) this.launch(r);
    if (r.spec.port !== undefined) await this.waitReady(r);
  }

  private async waitReady(r: Running): Promise<void> {
    const end = Date.now() + (this.opts.startTimeoutMs ?? 30_000);
    while (!(await portOpen(r.spec.port!))) {
      if (!r.child && !r.timer) {
        throw new Error(`${r.spec.name} exited at start; see ${this.logFile(r.spec.name)}`);
      }
      if (Date.now() > end) {
        throw new Error(
          `${r.spec.name} did not listen on port ${r.spec.port} within ` +
            `${Math.round((this.opts.startTimeoutMs ?? 30_000) / 1000)} s; see ${this.logFile(r.spec.name)}`,
        );
      }
      await new Promise((res) => setTimeout(res, 50));
    }
  }

  private launch(r: Running): void {
    const log = openSync(this.logFile(r.spec.name), "a");
    try {
      const child = spawn(
        process.execPath,
        [this.opts.cli, ...ARGS[r.spec.kind](r.spec.configFile)],
        {
          env: { ...this.opts.env, UPDRAFT_SUPERVISOR_PID: String(process.pid) },
          stdio: ["ignore", log, log],
          // Its own process group: Ctrl-C at the terminal reaches the supervisor only, which then
          // stops the daemons in order instead of all at once.
          detached: true,
        },
      );
      r.child = child;
      r.startedAt = Date.now();
      child.once("exit", (code, signal) => this.onExit(r, child, code, signal));
    } finally {
      closeSync(log);
    }
  }

  private onExit(
    r: Running,
    child: ChildProcess,
    code: number | null,
    signal: NodeJS.Signals | null,
  ): void {
    if (r.child !== child) return;
    r.child = undefined;
    if (this.stopping || r.stopped) return;
    // A daemon that ran a while before dying starts again at once; one that keeps dying backs off.
    if (Date.now() - r.startedAt > 60_000) r.restarts = 0;
    r.restarts++;
    const delay = restartDelayMs(r.restarts);
    const how = signal ? `signal ${signal}` : `exit code ${code}`;
    if (code === EXIT.config) {
      // Restarting cannot fix a configuration; say so once and leave it stopped.
      this.opts.say(
        `${r.spec.name} refused its configuration (${r.spec.configFile}); not restarting it: see ${this.logFile(r.spec.name)}`,
      );
      return;
    }
    this.opts.say(`${r.spec.name} died (${how}); restarting in ${delay / 1000} s`);
    r.timer = setTimeout(() => {
      r.timer = undefined;
      if (!this.stopping) this.launch(r);
    }, delay);
  }

  /**
   * SIGTERM in reverse start order, each given `graceMs` before SIGKILL; only the daemons named
   * in `only` when it is given (the others keep running and are still restarted if they die).
   */
  async stop(graceMs = 10_000, only?: readonly string[]): Promise<void> {
    if (!only) this.stopping = true;
    for (const name of [...this.running.keys()].reverse()) {
      if (only && !only.includes(name)) continue;
      const r = this.running.get(name);
      if (!r) continue;
      r.stopped = true;
      if (r.timer) clearTimeout(r.timer);
      const child = r.child;
      if (!child || child.exitCode !== null || child.signalCode !== null) continue;
      const exited = new Promise<void>((res) => child.once("exit", () => res()));
      child.kill("SIGTERM");
      const killer = setTimeout(() => child.kill("SIGKILL"), graceMs);
      await exited;
      clearTimeout(killer);
    }
  }
}
