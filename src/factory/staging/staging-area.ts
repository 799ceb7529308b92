/**
 * The factory's staging area: the files under a directory, hashed into a manifest, served over
 * HTTPS read-only. Only the manifest and the files it lists are served (no listing, no other
 * path), so what a pilot can fetch is exactly what its manifest hash vouches for.
 */
import { readdirSync, readFileSync, statSync, createReadStream } from "node:fs";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { join, relative } from "node:path";
import { UpdraftError } from "../../common/errors.js";
import { INSTALL_ARCHIVE, INSTALL_ENTRY } from "./install.js";
import {
  formatManifest,
  isSafePath,
  type ManifestFile,
  type ManifestRuntime,
  sha256Hex,
} from "./manifest.js";
import { runtimeOfPath } from "./runtime.js";
import type { VersionStore } from "./versions.js";

export const MANIFEST_NAME = "manifest.txt";

export interface StagedArea {
  manifestText: string;
  manifestSha256: string;
  files: readonly ManifestFile[];
  runtimes: readonly ManifestRuntime[];
}

/** A file in the staging folder whose name a pilot would refuse; rename or remove it. */
export class StagingFileError extends UpdraftError {
  readonly code = "staging-file";
  override name = "StagingFileError";
}

/**
 * Hash every regular file under `dir` (except the manifest) and build the manifest. With no
 * `entry` given and an install archive (`updraft factory stage`) among the files, the manifest
 * tells the pilot to unpack it and run the Updraft CLI inside it. Node.js runtimes under
 * `runtime/` (named as `npm pack` names them) get `runtime` lines instead of `file` lines, so a
 * pilot downloads one only when its node needs it.
 */
export function stageDirectory(
  dir: string,
  opts: { entry?: string; validate?: { kind: "site" | "vo"; path: string }[] } = {},
): StagedArea {
  const files: ManifestFile[] = [];
  const runtimes: ManifestRuntime[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      // Hidden names: a runtime fetch still in progress, a web server's own files.
      if (name.startsWith(".")) continue;
      const full = join(d, name);
      const st = statSync(full);
      if (st.isDirectory()) walk(full);
      else if (st.isFile()) {
        const path = relative(dir, full).split("\\").join("/");
        if (path === MANIFEST_NAME) continue;
        if (!isSafePath(path))
          throw new StagingFileError(`staging file '${path}': unsafe name for a pilot`);
        const sha256 = sha256Hex(readFileSync(full));
        const runtime = runtimeOfPath(path);
        if (runtime) runtimes.push({ ...runtime, sha256, path });
        else files.push({ path, sha256 });
      }
    }
  };
  walk(dir);
  const install =
    !opts.entry && files.some((f) => f.path === INSTALL_ARCHIVE)
      ? { archive: INSTALL_ARCHIVE, entry: INSTALL_ENTRY }
      : undefined;
  const manifestText = formatManifest({
    files,
    entry: opts.entry,
    install,
    validate: opts.validate,
    runtimes,
  });
  return { manifestText, manifestSha256: sha256Hex(manifestText), files, runtimes };
}

export interface StagingServerOptions {
  dir: string;
  area: StagedArea;
  certPem: string;
  keyPem: string;
  host: string;
  port: number;
  /** Kept versions, served under `/v/<manifest sha256>/`; the root serves `area`. */
  versions?: VersionStore;
}

export interface StagingServer {
  url: string;
  close(): Promise<void>;
}

export async function startStagingServer(o: StagingServerOptions): Promise<StagingServer> {
  const listed = new Set([...o.area.files, ...o.area.runtimes].map((f) => f.path));
  const server: Server = createServer({ cert: o.certPem, key: o.keyPem }, (req, res) => {
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { Allow: "GET, HEAD" }).end();
      return;
    }
    let path: string;
    try {
      path = decodeURIComponent(new URL(req.url ?? "/", "https://x").pathname).replace(/^\/+/, "");
    } catch {
      res.writeHead(400).end();
      return;
    }
    const headers = { "Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff" };
    const versioned = /^v\/([0-9a-f]{64})\/(.+)$/.exec(path);
    if (versioned && o.versions) {
      const [, sha, rest] = versioned as unknown as [string, string, string];
      const text = rest === MANIFEST_NAME ? o.versions.manifest(sha) : undefined;
      const file = text === undefined ? o.versions.file(sha, rest) : undefined;
      if (text === undefined && file === undefined) {
        res.writeHead(404, headers).end();
        return;
      }
      res.writeHead(200, { ...headers, "Content-Type": "application/octet-stream" });
      if (req.method === "HEAD") res.end();
      else if (text !== undefined) res.end(text);
      else {
        createReadStream(file!)
          .on("error", () => res.destroy())
          .pipe(res);
      }
      return;
    }
    if (path === MANIFEST_NAME) {
      res.writeHead(200, { ...headers, "Content-Type": "text/plain; charset=utf-8" });
      res.end(req.method === "HEAD" ? undefined : o.area.manifestText);
      return;
    }
    if (!listed.has(path)) {
      res.writeHead(404, headers).end();
      return;
    }
    res.writeHead(200, { ...headers, "Content-Type": "application/octet-stream" });
    if (req.method === "HEAD") {
      res.end();
      return;
    }
    createReadStream(join(o.dir, path))
      .on("error", () => res.destroy())
      .pipe(res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(o.port, o.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `https://${o.host === "0.0.0.0" ? "localhost" : o.host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
