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

/** Why `raw` cannot be reached, or null when a TCP connection to it opens. */
async function probeUrl(raw: string, timeoutMs: number): Promise<string | null> {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return "not a URL";
  }
  const port = Number(u.port) || DEFAULT_PORTS[u.protocol];
  if (!port) return "no port";
  const host = u.hostname.replace(/^\[(.*)\]$/, "$1");
  return tcpProbe(host, port, timeoutMs);
}

/** Every URL of `urls` must be reachable, and one of each set of `urlsOneOf`. */
export async function checkNetwork(s: ValidationSettings): Promise<CheckResult> {
  const timeoutMs = s.connectTimeoutMs ?? 5000;
  const groups = [...(s.urls ?? []).map((u) => [u]), ...(s.urlsOneOf ?? [])];
  const problems: string[] = [];
  await Promise.all(
    groups.map(async (group) => {
      const errors = await Promise.all(group.map((raw) => probeUrl(raw, timeoutMs)));
      if (errors.some((e) => e === null)) return;
      problems.push(group.map((raw, i) => `${raw}: ${errors[i]}`).join(" and "));
    }),
  );
  if (problems.length > 0) return fail("Network", `unreachable: ${problems.sort().join("; ")}`);
  return pass();
}
