/**
 * The frontend's own stage area for its VO script bundles (glideinWMS's frontend has one beside
 * the factory's): each group's bundle written under `staging.dir`, and, with `staging.listen`,
 * served read-only over HTTPS. Only the manifests and files of bundles staged by this start are
 * served (no listing, no other path), so what a pilot can fetch is what a GlideClient ad vouches
 * for.
 */
import { createReadStream } from "node:fs";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { VO_BUNDLE_MANIFEST } from "../common/vo-bundle.js";
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
  return { bundles, ...(server ? { url } : {}), close: () => closeServer(server) };
}

function serve(
  s: VoStagingConfig,
  served: ReadonlyMap<string, ReadonlySet<string>>,
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

function closeServer(server: Server | undefined): Promise<void> {
  if (!server) return Promise.resolve();
  return new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
}
