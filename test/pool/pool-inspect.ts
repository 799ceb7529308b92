/**
 * Looking into a running test pool from outside, the way an operator would: the local pilots'
 * folders and processes, the factory's database (read-only), and the daemons' JSON log lines.
 * Nothing here changes the pool.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { readSpec, readStatus } from "../../src/factory/adapters/local/pilot-dir.js";
import type { PilotStatus } from "../../src/factory/adapters/types.js";
import { loadFactoryConfig, type FactoryConfig } from "../../src/factory/config.js";
import { packageRoot } from "../../src/pool/up.js";
import type { TestPool } from "./pool-harness.js";

/** The demo factory's configuration as the pool's factory reads it. */
export function factoryConfig(tp: TestPool): FactoryConfig {
  return loadFactoryConfig(join(tp.pool.configDir, "factory.yaml"), {
    ...process.env,
    UPDRAFT_STATE: tp.pool.stateDir,
    UPDRAFT_HOME: packageRoot(),
    UPDRAFT_COLLECTOR_PORT: String(tp.pool.ports.collector),
    UPDRAFT_SCHEDD_PORT: String(tp.pool.ports.schedd),
  });
}

export interface PilotDir {
  entry: string;
  handle: string;
  dir: string;
  intentId: number | undefined;
  status: PilotStatus;
}

/** Every local pilot folder of every entry, with its state read from its files alone. */
export function pilotDirs(tp: TestPool): PilotDir[] {
  const root = join(tp.pool.stateDir, "factory", "adapters");
  if (!existsSync(root)) return [];
  const out: PilotDir[] = [];
  for (const entry of readdirSync(root)) {
    const pilots = join(root, entry, "pilots");
    if (!existsSync(pilots)) continue;
    for (const handle of readdirSync(pilots)) {
      if (handle.endsWith(".tmp")) continue;
      const dir = join(pilots, handle);
      out.push({
        entry,
        handle,
        dir,
        intentId: readSpec(dir)?.intentId,
        status: readStatus(dir, handle, Date.now()),
      });
    }
  }
  return out;
}

/** Pilots that hold or wait for a place at their site: what an entry's limits count. */
export const isLivePilot = (p: PilotDir) =>
  p.status.state === "Idle" || p.status.state === "Running" || p.status.state === "Held";

export interface BookRow {
  id: number;
  entry: string;
  handle: string | null;
  state: string;
}

/** The factory's pilot rows, read from its SQLite file without taking part in its writes. */
export function factoryBooks(tp: TestPool): BookRow[] {
  const db = new Database(join(tp.pool.stateDir, "factory", "factory.db"), {
    readonly: true,
    fileMustExist: true,
  });
  try {
    return db.prepare("SELECT id, entry, handle, state FROM pilots").all() as BookRow[];
  } finally {
    db.close();
  }
}

/** The pid of the direct child of `parent` whose command line contains `needle`. */
export function childPid(parent: number, needle: string): number | undefined {
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      // Field 4 is the parent pid; the command name before it may hold spaces, so cut at ')'.
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid !== parent) continue;
      const cmd = readFileSync(`/proc/${name}/cmdline`, "utf8").split("\0").join(" ");
      if (cmd.includes(needle)) return Number(name);
    } catch {
      // The process ended while we looked.
    }
  }
  return undefined;
}

/** Whether a process exists (signal 0 reaches it). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** A daemon's JSON log lines with this `msg`, oldest first. */
export function logLines(
  tp: TestPool,
  daemon: "collector" | "schedd" | "factory" | "frontend",
  msg: string,
): Record<string, unknown>[] {
  const file = tp.pool.supervisor.logFile(daemon);
  if (!existsSync(file)) return [];
  const out: Record<string, unknown>[] = [];
  for (const line of readFileSync(file, "utf8").split("\n")) {
    if (!line.startsWith("{")) continue;
    try {
      const rec = JSON.parse(line) as Record<string, unknown>;
      if (rec.msg === msg) out.push(rec);
    } catch {
      // A line cut short by SIGKILL.
    }
  }
  return out;
}

/** SIGKILL a daemon of the pool and return the pid it had. */
export function killDaemon(
  tp: TestPool,
  daemon: "collector" | "schedd" | "factory" | "frontend",
): number {
  const pid = tp.pool.supervisor.pid(daemon);
  if (pid === undefined) throw new Error(`${daemon} is not running`);
  process.kill(pid, "SIGKILL");
  return pid;
}

/**
 * What a failed wait on the demo pool should say: the factory's pilots and counters and the last
 * log lines of the factory, frontend and schedd, so a failure under CI's load explains itself.
 */
export function poolDiagnosis(tp: TestPool, tailLines = 40): string {
  const parts: string[] = [];
  try {
    const db = new Database(join(tp.pool.stateDir, "factory", "factory.db"), { readonly: true });
    try {
      const pilots = db
        .prepare(
          "SELECT id, entry, client, credential_id, state, exit_code, hold_reason, created_at, finished_at FROM pilots ORDER BY id",
        )
        .all();
      const counters = db.prepare("SELECT * FROM counters").all();
      parts.push(
        `factory pilots: ${JSON.stringify(pilots)}`,
        `counters: ${JSON.stringify(counters)}`,
      );
    } finally {
      db.close();
    }
  } catch (err) {
    parts.push(`factory database unreadable: ${String(err)}`);
  }
  for (const daemon of ["factory", "frontend", "schedd"] as const) {
    const file = tp.pool.supervisor.logFile(daemon);
    const lines = existsSync(file) ? readFileSync(file, "utf8").trimEnd().split("\n") : [];
    parts.push(`--- ${daemon} log, last ${tailLines} lines:`, ...lines.slice(-tailLines));
  }
  return parts.join("\n");
}

/** `wait`, or its error with the pool's diagnosis appended. */
export async function explained<T>(tp: TestPool, wait: Promise<T>): Promise<T> {
  try {
    return await wait;
  } catch (err) {
    throw new Error(`${(err as Error).message}\n${poolDiagnosis(tp)}`);
  }
}
