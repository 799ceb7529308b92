/**
 * The ports a one-machine pool listens on, chosen once and kept in `<state>/ports.json` so that
 * pilots and users' env.sh files stay right across restarts. The HTCondor-like defaults are taken
 * when free; otherwise the kernel picks.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";

export interface PoolPorts {
  collector: number;
  schedd: number;
  /** The factory's and frontend's HTTPS listeners for /metrics. */
  factoryMetrics: number;
  frontendMetrics: number;
  /** Further collectors and schedds of the folder (`collector-b`, `schedd-vo2`) by instance. */
  extra?: Record<string, number>;
}

/** The environment variable naming an instance's port: `schedd-vo2` is UPDRAFT_SCHEDD_VO2_PORT. */
export const portEnvName = (instance: string) =>
  `UPDRAFT_${instance.toUpperCase().replace(/-/g, "_")}_PORT`;

/** Each listening instance's port by instance name (the plain collector and schedd included). */
export function instancePorts(ports: PoolPorts): Record<string, number> {
  return { collector: ports.collector, schedd: ports.schedd, ...(ports.extra ?? {}) };
}

type DaemonPorts = Omit<PoolPorts, "extra">;

const DEFAULTS: DaemonPorts = {
  collector: 9618,
  schedd: 9619,
  factoryMetrics: 9621,
  frontendMetrics: 9622,
};

/** Resolves to the port bound (`port` itself, or the kernel's pick for 0), or undefined if taken. */
function tryBind(port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once("error", () => resolve(undefined));
    srv.listen({ host: "127.0.0.1", port, exclusive: true }, () => {
      const got = (srv.address() as { port: number }).port;
      srv.close(() => resolve(got));
    });
  });
}

export async function freePort(preferred = 0): Promise<number> {
  return (await tryBind(preferred)) ?? (await tryBind(0))!;
}

/** `n` different free ports, each picked by the kernel (for pools that must not share any). */
export async function distinctFreePorts(n: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < n) ports.add(await freePort());
  return [...ports];
}

export async function choosePorts(
  stateDir: string,
  extraInstances: readonly string[] = [],
): Promise<PoolPorts> {
  const file = join(stateDir, "ports.json");
  const saved: Partial<PoolPorts> = existsSync(file)
    ? (JSON.parse(readFileSync(file, "utf8")) as Partial<PoolPorts>)
    : {};
  const ports: Partial<DaemonPorts> = {};
  // Saved ports are kept (pilots and env.sh files name them) and must be free; a file from
  // before a daemon had a port of its own gets one chosen and added.
  for (const daemon of Object.keys(DEFAULTS) as (keyof DaemonPorts)[]) {
    const port = saved[daemon];
    if (typeof port !== "number") continue;
    if ((await tryBind(port)) === undefined) {
      throw new Error(
        `port ${port} of this pool's ${daemon} is in use: is the pool in ${stateDir} already ` +
          `running (another 'updraft up' or 'updraft demo')? Stop it first, or remove ` +
          `${file} to choose new ports`,
      );
    }
    ports[daemon] = port;
  }
  const taken = () => new Set(Object.values(ports));
  for (const daemon of Object.keys(DEFAULTS) as (keyof DaemonPorts)[]) {
    if (ports[daemon] !== undefined) continue;
    let port = await freePort(DEFAULTS[daemon]);
    while (taken().has(port)) port = await freePort(0);
    ports[daemon] = port;
  }
  const all: PoolPorts = { ...(ports as DaemonPorts) };
  const savedExtra = saved.extra ?? {};
  const extra: Record<string, number> = {};
  for (const name of extraInstances) {
    const port = savedExtra[name];
    if (typeof port === "number" && (await tryBind(port)) !== undefined) {
      extra[name] = port;
      continue;
    }
    let p = await freePort(0);
    while (taken().has(p) || Object.values(extra).includes(p)) p = await freePort(0);
    extra[name] = p;
  }
  if (extraInstances.length > 0) all.extra = extra;
  const changed =
    Object.keys(DEFAULTS).some(
      (k) => saved[k as keyof DaemonPorts] !== all[k as keyof DaemonPorts],
    ) || JSON.stringify(savedExtra) !== JSON.stringify(all.extra ?? {});
  if (changed) writeFileSync(file, JSON.stringify(all) + "\n");
  return all;
}
