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
}

const DEFAULTS: PoolPorts = { collector: 9618, schedd: 9619 };

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

export async function choosePorts(stateDir: string): Promise<PoolPorts> {
  const file = join(stateDir, "ports.json");
  if (existsSync(file)) {
    const saved = JSON.parse(readFileSync(file, "utf8")) as Partial<PoolPorts>;
    if (typeof saved.collector === "number" && typeof saved.schedd === "number") {
      const ports = { collector: saved.collector, schedd: saved.schedd };
      for (const [daemon, port] of Object.entries(ports)) {
        if ((await tryBind(port)) === undefined) {
          throw new Error(
            `port ${port} of this pool's ${daemon} is in use: is the pool in ${stateDir} already ` +
              `running (another 'updraft up' or 'updraft demo')? Stop it first, or remove ` +
              `${file} to choose new ports`,
          );
        }
      }
      return ports;
    }
  }
  const collector = await freePort(DEFAULTS.collector);
  let schedd = await freePort(DEFAULTS.schedd);
  while (schedd === collector) schedd = await freePort(0);
  const ports = { collector, schedd };
  writeFileSync(file, JSON.stringify(ports) + "\n");
  return ports;
}
