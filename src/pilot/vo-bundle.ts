/**
 * The VO's script bundle on the worker node: fetched from the URL the frontend's GlideClient ad
 * gave (through the factory, as UPDRAFT_VO_BUNDLE and UPDRAFT_VO_BUNDLE_SHA256), its manifest
 * checked against that hash and every file against the manifest, then written executable under
 * the work directory; each script's hash is checked again right before every run (a job running
 * as the pilot's user could rewrite it). A bundle that does not match is `Corruption` naming the
 * file; one that
 * cannot be fetched is `Network`. Plain HTTP is allowed, as for glideinWMS's stage areas: the
 * hashes, not the transport, vouch for the bytes.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { get as httpGet } from "node:http";
import { get as httpsGet } from "node:https";
import { join } from "node:path";
import { rootCertificates } from "node:tls";
import {
  parseVoBundle,
  sha256Hex,
  VO_BUNDLE_LIMITS,
  VO_BUNDLE_MANIFEST,
  type VoBundle,
} from "../common/vo-bundle.js";
import type { PilotFailure } from "./failure.js";
import type { JobHooks } from "./runner/job-hooks.js";
import type { HookFile } from "./validate/check-job-hooks.js";
import type { ValidationSettings } from "./validate/settings.js";

export interface VoBundleSource {
  url: string;
  sha256: string;
}

/** The bundle on disk: absolute paths. */
export interface FetchedVoBundle {
  dir: string;
  bundle: VoBundle;
  path(rel: string): string;
  sha256(rel: string): string;
}

export type FetchResult =
  { ok: true; value: FetchedVoBundle } | { ok: false; failure: PilotFailure };

export interface FetchOptions {
  /** CA certificates for an https:// URL besides the public ones (the pilot's X509_CERT_DIR). */
  trustDir?: string;
  /** Longest silence of the server. */
  timeoutMs?: number;
  /** Longest whole download: a server sending a byte now and then must not hold the pilot. */
  deadlineMs?: number;
}

/** Downloads one URL into memory, at most `limit` bytes; rejects with what went wrong. */
export function download(url: string, limit: number, o: FetchOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      reject(new Error(`bad URL ${url}`));
      return;
    }
    const timeout = o.timeoutMs ?? 30_000;
    const deadline = o.deadlineMs ?? 10 * 60_000;
    const onResponse = (res: import("node:http").IncomingMessage) => {
      if (res.statusCode !== 200) {
        res.resume();
        reject(new Error(`${url}: HTTP ${res.statusCode}`));
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on("data", (c: Buffer) => {
        size += c.length;
        if (size > limit) {
          res.destroy(new Error(`${url} is larger than ${limit} bytes`));
          return;
        }
        chunks.push(c);
      });
      res.on("error", reject);
      res.on("end", () => resolve(Buffer.concat(chunks)));
    };
    const req =
      u.protocol === "https:"
        ? httpsGet(u, { ca: caCertificates(o.trustDir), timeout }, onResponse)
        : u.protocol === "http:"
          ? httpGet(u, { timeout }, onResponse)
          : undefined;
    if (!req) {
      reject(new Error(`${url}: only http:// and https:// are fetched`));
      return;
    }
    req.on("timeout", () => req.destroy(new Error(`${url}: no answer within ${timeout} ms`)));
    req.on("error", reject);
    const timer = setTimeout(() => {
      const err = new Error(`${url}: not complete within ${deadline} ms`);
      reject(err);
      req.destroy(err);
    }, deadline);
    req.on("close", () => clearTimeout(timer));
  });
}

/** The public CAs and those of the trust directory (IGTF layout or plain PEM files). */
function caCertificates(trustDir: string | undefined): string[] {
  const out = [...rootCertificates];
  if (!trustDir) return out;
  try {
    for (const name of readdirSync(trustDir)) {
      if (!/\.(0|pem)$/.test(name)) continue;
      try {
        out.push(readFileSync(join(trustDir, name), "utf8"));
      } catch {
        // An unreadable file is one CA fewer.
      }
    }
  } catch {
    // No trust directory: the public CAs only.
  }
  return out;
}

/** Fetches and checks the whole bundle into `dir`; nothing is written unless all of it matches. */
export async function fetchVoBundle(
  src: VoBundleSource,
  dir: string,
  o: FetchOptions = {},
): Promise<FetchResult> {
  const corrupt = (message: string): FetchResult => ({
    ok: false,
    failure: { class: "Corruption", message: `VO bundle ${src.url}: ${message}` },
  });
  const base = src.url.replace(/\/+$/, "");
  const fetchOne = async (rel: string, limit: number) => {
    try {
      return { ok: true as const, data: await download(`${base}/${rel}`, limit, o) };
    } catch (err) {
      return { ok: false as const, why: (err as Error).message };
    }
  };
  const m = await fetchOne(VO_BUNDLE_MANIFEST, VO_BUNDLE_LIMITS.manifestBytes);
  if (!m.ok) {
    return {
      ok: false,
      failure: { class: "Network", message: `cannot fetch the VO bundle: ${m.why}` },
    };
  }
  const got = sha256Hex(m.data);
  if (got !== src.sha256.toLowerCase()) {
    return corrupt(`${VO_BUNDLE_MANIFEST} has SHA-256 ${got}, expected ${src.sha256}`);
  }
  const parsed = parseVoBundle(m.data.toString("utf8"));
  if (!parsed.ok) return corrupt(parsed.problem);
  const bundle = parsed.bundle;
  const contents = new Map<string, Buffer>();
  let total = 0;
  for (const f of bundle.files) {
    const r = await fetchOne(f.path, VO_BUNDLE_LIMITS.fileBytes);
    if (!r.ok) {
      // Over the size bound is the file's fault; anything else the network's.
      if (/larger than/.test(r.why)) return corrupt(`file ${f.path}: ${r.why}`);
      return {
        ok: false,
        failure: { class: "Network", message: `cannot fetch VO bundle file ${f.path}: ${r.why}` },
      };
    }
    const h = sha256Hex(r.data);
    if (h !== f.sha256) return corrupt(`file ${f.path} has SHA-256 ${h}, expected ${f.sha256}`);
    total += r.data.length;
    if (total > VO_BUNDLE_LIMITS.totalBytes) {
      return corrupt(`files are over ${VO_BUNDLE_LIMITS.totalBytes} bytes in all`);
    }
    contents.set(f.path, r.data);
  }
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  for (const [rel, data] of contents) writeFileSync(join(dir, rel), data, { mode: 0o700 });
  const shas = new Map(bundle.files.map((f) => [f.path, f.sha256]));
  return {
    ok: true,
    value: { dir, bundle, path: (rel) => join(dir, rel), sha256: (rel) => shas.get(rel)! },
  };
}

/**
 * The pilot's settings with the bundle in them: start and periodic scripts run at validation
 * after every other script (the factory's, the site's), the VO hooks checked with their hashes
 * and run inside the site's.
 */
export function withVoBundle(
  v: ValidationSettings,
  hooks: JobHooks,
  b: FetchedVoBundle,
): { validation: ValidationSettings; jobHooks: JobHooks } {
  const { bundle } = b;
  const scripts = [
    ...(v.scripts ?? []),
    ...bundle.start.map((p) => ({ path: b.path(p), kind: "vo" as const, sha256: b.sha256(p) })),
    ...bundle.periodic.map((p) => ({
      path: b.path(p.path),
      kind: "vo" as const,
      sha256: b.sha256(p.path),
    })),
  ];
  const timeoutMs = (bundle.hookTimeoutS ?? 300) * 1000;
  const checked: HookFile[] = [];
  const hook = (role: string, rel: string | undefined) => {
    if (rel === undefined) return undefined;
    checked.push({ role, path: b.path(rel), sha256: b.sha256(rel) });
    return b.path(rel);
  };
  const wrapper = hook("VO job wrapper", bundle.jobWrapper);
  const pre = hook("VO pre-job script", bundle.preJob);
  const post = hook("VO post-job script", bundle.postJob);
  return {
    validation: { ...v, scripts, jobHooks: [...(v.jobHooks ?? []), ...checked] },
    jobHooks: {
      ...hooks,
      ...(wrapper ? { voWrapper: wrapper, voWrapperSha256: b.sha256(bundle.jobWrapper!) } : {}),
      ...(pre ? { voPreJob: { path: pre, timeoutMs, sha256: b.sha256(bundle.preJob!) } } : {}),
      ...(post ? { voPostJob: { path: post, timeoutMs, sha256: b.sha256(bundle.postJob!) } } : {}),
    },
  };
}

/** The periodic scripts with their absolute paths, for the pilot's main loop. */
export function periodicScripts(b: FetchedVoBundle): { path: string; periodMs: number }[] {
  return b.bundle.periodic.map((p) => ({
    path: b.path(p.path),
    periodMs: p.periodS * 1000,
    sha256: b.sha256(p.path),
  }));
}
