/**
 * A VO's script bundle, as the frontend stages it and a pilot reads it: a manifest listing every
 * file with its SHA-256 and what each is for (start scripts, periodic scripts, the VO job wrapper
 * and its pre/post-job scripts). The manifest's own SHA-256 travels in the frontend's
 * authenticated GlideClient ad, so one hash vouches for every byte a pilot runs. Pure; the
 * frontend writes it (frontend/vo-bundle.ts), the pilot fetches and checks it (pilot/vo-bundle.ts).
 *
 *   updraft-vo-bundle 1
 *   file <sha256> <path>
 *   start <path>
 *   periodic <period s> <path>
 *   job_wrapper <path> | pre_job <path> | post_job <path>
 *   hook_timeout_s <s>
 */
import { createHash } from "node:crypto";

export const VO_BUNDLE_HEADER = "updraft-vo-bundle 1";
export const VO_BUNDLE_MANIFEST = "manifest.txt";
/** The GlideinParam names (environment of the pilot) carrying the bundle's URL and hash. */
export const VO_BUNDLE_URL_PARAM = "UPDRAFT_VO_BUNDLE";
export const VO_BUNDLE_SHA256_PARAM = "UPDRAFT_VO_BUNDLE_SHA256";

/** Bounds a pilot holds a bundle to, whoever wrote it. */
export const VO_BUNDLE_LIMITS = {
  manifestBytes: 64 * 1024,
  files: 64,
  fileBytes: 16 * 1024 * 1024,
  totalBytes: 64 * 1024 * 1024,
  minPeriodS: 1,
  maxPeriodS: 7 * 86_400,
  maxHookTimeoutS: 86_400,
} as const;

export interface VoBundleFile {
  path: string;
  sha256: string;
}

export interface VoPeriodicScript {
  path: string;
  periodS: number;
}

export interface VoBundle {
  files: VoBundleFile[];
  /** Run once at pilot start, after the factory's scripts, in this order. */
  start: string[];
  /** Run at start and then every periodS; a failure turns the slot's START off. */
  periodic: VoPeriodicScript[];
  jobWrapper?: string;
  preJob?: string;
  postJob?: string;
  hookTimeoutS?: number;
}

const HOOKS = ["job_wrapper", "pre_job", "post_job"] as const;
const HOOK_FIELD = { job_wrapper: "jobWrapper", pre_job: "preJob", post_job: "postJob" } as const;

/**
 * One plain file name of a small character set, not `.` or `..`: it becomes a file of the
 * pilot's bundle folder, which is flat (the frontend names files `<n>-<base name>`), so a path
 * with folders would fail the pilot's write instead of being refused here.
 */
export function isSafeBundlePath(p: string): boolean {
  return p.length <= 255 && /^[A-Za-z0-9._@+-]+$/.test(p) && p !== "." && p !== "..";
}

export const sha256Hex = (data: string | Buffer): string =>
  createHash("sha256").update(data).digest("hex");

export function formatVoBundle(b: VoBundle): string {
  const lines = [VO_BUNDLE_HEADER];
  for (const f of b.files) lines.push(`file ${f.sha256} ${f.path}`);
  for (const s of b.start) lines.push(`start ${s}`);
  for (const p of b.periodic) lines.push(`periodic ${p.periodS} ${p.path}`);
  for (const k of HOOKS) {
    const v = b[HOOK_FIELD[k]];
    if (v !== undefined) lines.push(`${k} ${v}`);
  }
  if (b.hookTimeoutS !== undefined) lines.push(`hook_timeout_s ${b.hookTimeoutS}`);
  return lines.join("\n") + "\n";
}

export type ParsedVoBundle = { ok: true; bundle: VoBundle } | { ok: false; problem: string };

/** Reads a manifest a pilot downloaded; every problem is a refusal naming the line. */
export function parseVoBundle(text: string): ParsedVoBundle {
  if (Buffer.byteLength(text) > VO_BUNDLE_LIMITS.manifestBytes) {
    return {
      ok: false,
      problem: `manifest is larger than ${VO_BUNDLE_LIMITS.manifestBytes} bytes`,
    };
  }
  const lines = text.split("\n");
  if (lines[0] !== VO_BUNDLE_HEADER) {
    return { ok: false, problem: `manifest does not start with '${VO_BUNDLE_HEADER}'` };
  }
  const b: VoBundle = { files: [], start: [], periodic: [] };
  const listed = new Set<string>();
  const bad = (line: string, why: string): ParsedVoBundle => ({
    ok: false,
    problem: `manifest line '${line.slice(0, 200)}': ${why}`,
  });
  for (const line of lines.slice(1)) {
    if (line === "" || line.startsWith("#")) continue;
    const f = line.split(" ");
    const kind = f[0]!;
    if (kind === "file") {
      const [, sha, path] = f;
      if (f.length !== 3 || !sha || !path) return bad(line, "needs a hash and a path");
      if (!/^[0-9a-f]{64}$/.test(sha)) return bad(line, "hash is not 64 lowercase hex digits");
      if (!isSafeBundlePath(path)) return bad(line, "unsafe path");
      if (listed.has(path)) return bad(line, "file listed twice");
      if (b.files.length >= VO_BUNDLE_LIMITS.files) {
        return bad(line, `more than ${VO_BUNDLE_LIMITS.files} files`);
      }
      listed.add(path);
      b.files.push({ path, sha256: sha });
    } else if (kind === "start" || (HOOKS as readonly string[]).includes(kind)) {
      const path = f[1];
      if (f.length !== 2 || !path) return bad(line, "needs one path");
      if (!listed.has(path)) return bad(line, `${path} is not a listed file`);
      if (kind === "start") b.start.push(path);
      else {
        const field = HOOK_FIELD[kind as (typeof HOOKS)[number]];
        if (b[field] !== undefined) return bad(line, `a second ${kind}`);
        b[field] = path;
      }
    } else if (kind === "periodic") {
      const [, period, path] = f;
      const periodS = Number(period);
      if (f.length !== 3 || !path) return bad(line, "needs a period and a path");
      if (
        !/^\d+$/.test(period ?? "") ||
        periodS < VO_BUNDLE_LIMITS.minPeriodS ||
        periodS > VO_BUNDLE_LIMITS.maxPeriodS
      ) {
        return bad(line, "period is not a whole number of seconds within bounds");
      }
      if (!listed.has(path)) return bad(line, `${path} is not a listed file`);
      b.periodic.push({ path, periodS });
    } else if (kind === "hook_timeout_s") {
      const t = Number(f[1]);
      if (
        f.length !== 2 ||
        !/^\d+$/.test(f[1] ?? "") ||
        t < 1 ||
        t > VO_BUNDLE_LIMITS.maxHookTimeoutS
      ) {
        return bad(line, "needs a whole number of seconds within bounds");
      }
      b.hookTimeoutS = t;
    } else return bad(line, "unknown directive");
  }
  return { ok: true, bundle: b };
}
