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
}

const DEFAULTS: PoolPorts = {
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

export async function choosePorts(stateDir: string): Promise<PoolPorts> {
  const file = join(stateDir, "ports.json");
  const saved: Partial<PoolPorts> = existsSync(file)
    ? (JSON.parse(readFileSync(file, "utf8")) as Partial<PoolPorts>)
    : {};
  const ports: Partial<PoolPorts> = {};
  // Saved ports are kept (pilots and env.sh files name them) and must be free; a file from
  // before a daemon had a port of its own gets one chosen and added.
  for (const daemon of Object.keys(DEFAULTS) as (keyof PoolPorts)[]) {
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
  for (const daemon of Object.keys(DEFAULTS) as (keyof PoolPorts)[]) {
    if (ports[daemon] !== undefined) continue;
    let port = await freePort(DEFAULTS[daemon]);
    while (taken().has(port)) port = await freePort(0);
    ports[daemon] = port;
  }
  const all = ports as PoolPorts;
  if (Object.keys(DEFAULTS).some((k) => saved[k as keyof PoolPorts] !== all[k as keyof PoolPorts]))
    writeFileSync(file, JSON.stringify(all) + "\n");
  return all;
}
