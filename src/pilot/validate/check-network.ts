/** Reachability of the collector and schedds: a TCP connect with a short timeout, nothing sent. */
import { connect } from "node:net";
import { fail, pass, type CheckResult } from "../failure.js";
import type { ValidationSettings } from "./settings.js";

const DEFAULT_PORTS: Record<string, number> = {
  "https:": 443,
  "wss:": 443,
  "http:": 80,
  "ws:": 80,
};

export function tcpProbe(host: string, port: number, timeoutMs: number): Promise<string | null> {
  return new Promise((resolve) => {
    const sock = connect({ host, port });
    const done = (err: string | null) => {
      sock.destroy();
      resolve(err);
    };
    sock.setTimeout(timeoutMs, () => done(`timed out after ${timeoutMs} ms`));
    sock.once("connect", () => done(null));
    sock.once("error", (e) => done(e.message));
  });
}

export async function checkNetwork(s: ValidationSettings): Promise<CheckResult> {
  const urls = s.urls ?? [];
  const problems: string[] = [];
  await Promise.all(
    urls.map(async (raw) => {
      let u: URL;
      try {
        u = new URL(raw);
      } catch {
        problems.push(`${raw}: not a URL`);
        return;
      }
      const port = Number(u.port) || DEFAULT_PORTS[u.protocol];
      if (!port) return problems.push(`${raw}: no port`);
      const host = u.hostname.replace(/^\[(.*)\]$/, "$1");
      const err = await tcpProbe(host, port, s.connectTimeoutMs ?? 5000);
      if (err) problems.push(`${raw}: ${err}`);
    }),
  );
  if (problems.length > 0) return fail("Network", `unreachable: ${problems.sort().join("; ")}`);
  return pass();
}
