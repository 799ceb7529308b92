/**
 * The frontend's own stage area for its VO script bundles (glideinWMS's frontend has one beside
 * the factory's): each group's bundle written under `staging.dir`, and, with `staging.listen`,
 * served read-only over HTTPS. Only bundle manifests and the files they list are served (no
 * listing, no other path): this start's, and those of earlier starts still under `dir` whose
 * manifest hashes to its folder's name, so pilots queued before a restart that changed the
 * scripts still find theirs. An earlier start's folder is purged once no pilot can still need it:
 * when it was last in use (its folder's time, which this start keeps fresh for its own bundles)
 * is longer ago than the longest a pilot may queue and run (see pilotNeedS).
 */
import { createReadStream, readdirSync, readFileSync, rmSync, statSync, utimesSync } from "node:fs";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { parseVoBundle, sha256Hex, VO_BUNDLE_MANIFEST } from "../common/vo-bundle.js";
import { listenerTlsMaterial, type TlsMaterial } from "../common/tls-rpc.js";
import type { FrontendConfig } from "./config.js";
import {
  groupVoScripts,
  hasVoScripts,
  stageVoBundle,
  type StagedVoBundle,
  type VoStagingConfig,
} from "./vo-bundle.js";

export interface VoStaging {
  /** Each group's staged bundle; groups without scripts are absent. */
  bundles: ReadonlyMap<string, StagedVoBundle>;
  /** The HTTPS URL `dir` is served at, when the frontend serves it. */
  url?: string;
  close(): Promise<void>;
}

/** Stages every group's bundle and serves them when `staging.listen` says so; none without scripts. */
export async function startVoStaging(
  config: FrontendConfig,
  daemonTls: TlsMaterial | undefined,
): Promise<VoStaging | undefined> {
  const s = config.staging;
  const groups = config.groups.map((g) => [g.name, groupVoScripts(config, g)] as const);
  if (!s || !groups.some(([, v]) => hasVoScripts(v))) return undefined;
  let server: Server | undefined;
  let url = s.url;
  const served = new Map<string, Set<string>>();
  if (s.listen) {
    if (!daemonTls) throw new Error("staging.listen needs the frontend's tls section");
    const tls = listenerTlsMaterial(s.tls, daemonTls, "staging.tls");
    server = createServer({ cert: tls.certPem, key: tls.keyPem }, (req, res) =>
      serve(s, served, req.method, req.url, res),
    );
    await new Promise<void>((resolve, reject) => {
      server!.once("error", reject);
      server!.listen(s.listen!.port, s.listen!.host, () => resolve());
    });
    const port = (server.address() as AddressInfo).port;
    const host = s.listen.host === "0.0.0.0" ? "localhost" : s.listen.host;
    url ??= `https://${host}:${port}`;
  }
  const bundles = new Map<string, StagedVoBundle>();
  try {
    for (const [name, v] of groups) {
      if (!hasVoScripts(v)) continue;
      const b = stageVoBundle(v, s.dir, url!);
      bundles.set(name, b);
      served.set(b.sha256, new Set([VO_BUNDLE_MANIFEST, ...b.files.map((f) => f.path)]));
    }
  } catch (err) {
    await closeServer(server);
    throw err;
  }
  const keep = new Set([...bundles.values()].map((b) => b.sha256));
  const tidy = () => {
    const now = new Date();
    for (const sha of keep) touch(join(s.dir, sha), now);
    for (const sha of purgeStaleBundles(s.dir, keep, pilotNeedS(config), now.getTime())) {
      served.delete(sha);
    }
  };
  tidy();
  const timer = setInterval(tidy, PURGE_EVERY_MS);
  timer.unref();
  return {
    bundles,
    ...(server ? { url } : {}),
    close: () => {
      clearInterval(timer);
      return closeServer(server);
    },
  };
}

/** How often a running frontend marks its bundles in use and purges stale ones. */
const PURGE_EVERY_MS = 3600_000;

/**
 * The longest a pilot handed a bundle may live: queued at its site up to its group's
 * idle_glideins_lifetime_s, then running up to its max_walltime_s. Groups whose idle pilots are
 * never removed (0) count their walltime for the queue too; a pilot queued longer than that
 * finds its bundle gone and fails as Network, naming the URL.
 */
export function pilotNeedS(config: FrontendConfig): number {
  let longest = 0;
  for (const g of config.groups) {
    const walltime = g.pilot?.max_walltime_s ?? config.pilot.max_walltime_s;
    const queued = g.limits.idle_glideins_lifetime_s || walltime;
    longest = Math.max(longest, walltime + queued);
  }
  return longest;
}

/**
 * Removes the bundle folders under `dir` other than `keep` last in use more than `maxAgeS`
 * seconds before `nowMs`; returns their names. Only folders named as bundles are touched.
 */
export function purgeStaleBundles(
  dir: string,
  keep: ReadonlySet<string>,
  maxAgeS: number,
  nowMs: number,
): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    if (!/^[0-9a-f]{64}$/.test(name) || keep.has(name)) continue;
    const path = join(dir, name);
    try {
      const st = statSync(path);
      if (!st.isDirectory() || nowMs - st.mtimeMs <= maxAgeS * 1000) continue;
      rmSync(path, { recursive: true, force: true });
      removed.push(name);
    } catch {
      // Gone meanwhile or unreadable: left for the next purge.
    }
  }
  return removed;
}

function touch(path: string, at: Date): void {
  try {
    utimesSync(path, at, at);
  } catch {
    // A bundle folder removed by hand is staged again at the next start.
  }
}

function serve(
  s: VoStagingConfig,
  served: Map<string, ReadonlySet<string>>,
  method: string | undefined,
  rawUrl: string | undefined,
  res: import("node:http").ServerResponse,
): void {
  const headers = { "Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff" };
  if (method !== "GET" && method !== "HEAD") {
    res.writeHead(405, { ...headers, Allow: "GET, HEAD" }).end();
    return;
  }
  let path: string;
  try {
    path = decodeURIComponent(new URL(rawUrl ?? "/", "https://x").pathname).replace(/^\/+/, "");
  } catch {
    res.writeHead(400, headers).end();
    return;
  }
  const m = /^([0-9a-f]{64})\/([^/]+)$/.exec(path);
  if (m && !served.has(m[1]!)) {
    const earlier = stagedEarlier(s.dir, m[1]!);
    if (earlier) served.set(m[1]!, earlier);
  }
  if (!m || !served.get(m[1]!)?.has(m[2]!)) {
    res.writeHead(404, headers).end();
    return;
  }
  res.writeHead(200, { ...headers, "Content-Type": "application/octet-stream" });
  if (method === "HEAD") {
    res.end();
    return;
  }
  createReadStream(join(s.dir, m[1]!, m[2]!))
    .on("error", () => res.destroy())
    .pipe(res);
}

/** The names a bundle folder of an earlier start may serve, if its manifest is the one named. */
function stagedEarlier(dir: string, sha: string): Set<string> | undefined {
  let text: Buffer;
  try {
    text = readFileSync(join(dir, sha, VO_BUNDLE_MANIFEST));
  } catch {
    return undefined;
  }
  if (sha256Hex(text) !== sha) return undefined;
  const parsed = parseVoBundle(text.toString("utf8"));
  if (!parsed.ok) return undefined;
  return new Set([VO_BUNDLE_MANIFEST, ...parsed.bundle.files.map((f) => f.path)]);
}

function closeServer(server: Server | undefined): Promise<void> {
  if (!server) return Promise.resolve();
  return new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
}
