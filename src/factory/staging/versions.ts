/**
 * Staged versions kept side by side, so that staging a new build and restarting the factory never
 * breaks pilots already queued at sites: each version is its manifest, named by the manifest's
 * SHA-256, and its files are kept by their own SHA-256 (a file two versions share is kept once).
 * A pilot's staging URL names its version (`<url>/v/<manifest sha256>`), so it downloads exactly
 * what its manifest hash vouches for, whatever was staged since. A version stops being current when
 * the factory starts with another; it is purged once no pilot submitted with it can still start:
 * after the longest time the entries let a pilot wait in a queue plus run.
 *
 * Layout under the store's folder (0700): `objects/<sha256>`, `versions/<sha256>.txt` (the
 * manifest), `versions/<sha256>.json` ({ addedMs, retiredMs? }), `current` (a manifest sha256).
 */
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import type { StagedArea } from "./staging-area.js";

export interface StagedVersion {
  sha256: string;
  addedMs: number;
  /** When another version became current; absent for the current one. */
  retiredMs?: number;
  current: boolean;
}

const SHA_RE = /^[0-9a-f]{64}$/;

/** Which versions to purge: retired ones whose pilots can no longer start. Pure. */
export function versionsToPurge(
  versions: readonly StagedVersion[],
  nowMs: number,
  keepMs: number,
): string[] {
  return versions
    .filter((v) => !v.current && v.retiredMs !== undefined && v.retiredMs + keepMs <= nowMs)
    .map((v) => v.sha256);
}

export interface VersionStore {
  dir: string;
  /** Make `area` (hashed from `srcDir`) the current version; the previous one is retired now. */
  makeCurrent(area: StagedArea, srcDir: string, nowMs: number): void;
  list(): StagedVersion[];
  /** The manifest text of a kept version. */
  manifest(sha256: string): string | undefined;
  /** The stored file a kept version lists under `path`, if it lists one. */
  file(sha256: string, path: string): string | undefined;
  /** Purge what `versionsToPurge` says, and every object no kept version lists. */
  purge(nowMs: number, keepMs: number): string[];
}

function writeAtomic(file: string, text: string): void {
  writeFileSync(`${file}.tmp`, text, { mode: 0o600 });
  renameSync(`${file}.tmp`, file);
}

/** `file`, `runtime` and their hashes, from a manifest in the bootstrap format. */
function listedFiles(manifest: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of manifest.split("\n")) {
    const f = line.split(" ");
    if (f[0] === "file" && f.length === 3) out.set(f[2]!, f[1]!);
    else if (f[0] === "runtime" && f.length === 5) out.set(f[3]!, f[2]!);
  }
  return out;
}

export function openVersionStore(dir: string): VersionStore {
  const objects = join(dir, "objects");
  const versions = join(dir, "versions");
  mkdirSync(objects, { recursive: true, mode: 0o700 });
  mkdirSync(versions, { recursive: true, mode: 0o700 });
  const currentFile = join(dir, "current");
  const listedCache = new Map<string, Map<string, string>>();

  const current = () =>
    existsSync(currentFile) ? readFileSync(currentFile, "utf8").trim() : undefined;
  const meta = (sha: string): { addedMs: number; retiredMs?: number } =>
    JSON.parse(readFileSync(join(versions, `${sha}.json`), "utf8")) as {
      addedMs: number;
      retiredMs?: number;
    };
  const manifest = (sha: string) => {
    if (!SHA_RE.test(sha)) return undefined;
    const f = join(versions, `${sha}.txt`);
    return existsSync(f) ? readFileSync(f, "utf8") : undefined;
  };
  const listed = (sha: string) => {
    let m = listedCache.get(sha);
    if (!m) {
      const text = manifest(sha);
      if (text === undefined) return undefined;
      m = listedFiles(text);
      listedCache.set(sha, m);
    }
    return m;
  };

  const list = (): StagedVersion[] => {
    const cur = current();
    return readdirSync(versions)
      .filter((n) => n.endsWith(".json") && SHA_RE.test(n.slice(0, -5)))
      .map((n) => {
        const sha256 = n.slice(0, -5);
        return { sha256, ...meta(sha256), current: sha256 === cur };
      })
      .sort((a, b) => a.addedMs - b.addedMs);
  };

  return {
    dir,
    list,
    manifest,
    file(sha, path) {
      const h = listed(sha)?.get(path);
      return h === undefined ? undefined : join(objects, h);
    },
    makeCurrent(area, srcDir, nowMs) {
      // Objects first, the manifest last: a version is never listed before all it needs is kept.
      for (const f of [...area.files, ...area.runtimes]) {
        const obj = join(objects, f.sha256);
        if (!existsSync(obj)) {
          // A copy, not a link: `stage` rewrites files in place, which must not change a version.
          copyFileSync(join(srcDir, f.path), `${obj}.tmp`);
          renameSync(`${obj}.tmp`, obj);
        }
      }
      const sha = area.manifestSha256;
      writeAtomic(join(versions, `${sha}.txt`), area.manifestText);
      const prev = current();
      if (prev === sha) return;
      if (!existsSync(join(versions, `${sha}.json`))) {
        writeAtomic(join(versions, `${sha}.json`), JSON.stringify({ addedMs: nowMs }));
      } else {
        // Current again after a rollback: no longer retired.
        writeAtomic(join(versions, `${sha}.json`), JSON.stringify({ addedMs: meta(sha).addedMs }));
      }
      if (prev && existsSync(join(versions, `${prev}.json`))) {
        writeAtomic(
          join(versions, `${prev}.json`),
          JSON.stringify({ ...meta(prev), retiredMs: nowMs }),
        );
      }
      writeAtomic(currentFile, sha);
    },
    purge(nowMs, keepMs) {
      const gone = versionsToPurge(list(), nowMs, keepMs);
      for (const sha of gone) {
        rmSync(join(versions, `${sha}.txt`), { force: true });
        rmSync(join(versions, `${sha}.json`), { force: true });
        listedCache.delete(sha);
      }
      const kept = new Set<string>();
      for (const v of list()) for (const h of listed(v.sha256)?.values() ?? []) kept.add(h);
      for (const name of readdirSync(objects)) {
        if (!kept.has(name)) rmSync(join(objects, name), { force: true });
      }
      return gone;
    },
  };
}
