/**
 * The VO's scripts, as glideinWMS's frontend stages its own: per frontend and per group, scripts
 * a pilot runs at start (after the factory's) or periodically, and a VO job wrapper. Each group's
 * set becomes one content-addressed bundle under `staging.dir/<manifest sha256>/`, whose URL and
 * manifest hash go to the factory in the group's GlideClient ads (see common/vo-bundle.ts).
 */
import { existsSync, rmSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { z } from "zod";
import { listenerTlsBlock, wholeSeconds } from "../common/config-blocks.js";
import { UpdraftError } from "../common/errors.js";
import {
  formatVoBundle,
  sha256Hex,
  VO_BUNDLE_LIMITS,
  VO_BUNDLE_MANIFEST,
  VO_BUNDLE_SHA256_PARAM,
  VO_BUNDLE_URL_PARAM,
  type VoBundle,
  type VoBundleFile,
} from "../common/vo-bundle.js";

export const voScriptSchema = z
  .object({
    /** The script on the frontend's host; its bytes are staged. */
    file: z.string().min(1),
    /** `start`: once, after the factory's scripts; `periodic`: at start, then every period_s. */
    when: z.enum(["start", "periodic"]).default("start"),
    period_s: wholeSeconds.optional(),
  })
  .strict()
  .superRefine((s, ctx) => {
    if (s.when === "periodic" && s.period_s === undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["period_s"],
        message: "a periodic script needs period_s",
      });
    }
    if (s.when === "start" && s.period_s !== undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["period_s"],
        message: "period_s is for when: periodic",
      });
    }
  });

/** The VO job wrapper, the shape of the factory's entry `pilot.job_wrapper`; runs inside it. */
export const voJobWrapperSchema = z
  .object({
    file: z.string().min(1).optional(),
    pre_job: z.string().min(1).optional(),
    post_job: z.string().min(1).optional(),
    timeout_s: wholeSeconds.default(300),
  })
  .strict()
  .refine((w) => w.file || w.pre_job || w.post_job, "name a file, pre_job or post_job");

/** Where the bundles are written, and how pilots reach them. */
export const voStagingSchema = z
  .object({
    dir: z.string().min(1),
    /** Serve `dir` over HTTPS here; without it, another web server must serve `dir` at `url`. */
    listen: z
      .object({
        host: z.string().default("0.0.0.0"),
        port: z.number().int().min(0).max(65535).default(8320),
      })
      .strict()
      .optional(),
    /** The URL pilots fetch `dir` from; defaults to https://<listen host>:<port>. */
    url: z.string().url().optional(),
    /** Web server certificate and key; the frontend's own `tls` ones by default. */
    tls: listenerTlsBlock().optional(),
  })
  .strict()
  .refine((s) => s.listen !== undefined || s.url !== undefined, {
    message: "give listen (the frontend serves dir) or url (another web server does)",
  });

export type VoScriptConfig = z.output<typeof voScriptSchema>;
export type VoJobWrapperConfig = z.output<typeof voJobWrapperSchema>;
export type VoStagingConfig = z.output<typeof voStagingSchema>;

/** What one group sends its pilots: the frontend's scripts, then the group's; the group's wrapper wins. */
export interface GroupVoScripts {
  scripts: readonly VoScriptConfig[];
  jobWrapper?: VoJobWrapperConfig;
}

export function groupVoScripts(
  frontend: { scripts?: readonly VoScriptConfig[]; job_wrapper?: VoJobWrapperConfig },
  group: { scripts?: readonly VoScriptConfig[]; job_wrapper?: VoJobWrapperConfig },
): GroupVoScripts {
  const jobWrapper = group.job_wrapper ?? frontend.job_wrapper;
  return {
    scripts: [...(frontend.scripts ?? []), ...(group.scripts ?? [])],
    ...(jobWrapper ? { jobWrapper } : {}),
  };
}

export const hasVoScripts = (g: GroupVoScripts) =>
  g.scripts.length > 0 || g.jobWrapper !== undefined;

/** One line per script and hook, as `frontend plan`, `explain` and `status` show them. */
export function describeVoScripts(g: GroupVoScripts): string[] {
  const out = g.scripts.map((s) =>
    s.when === "periodic" ? `periodic every ${s.period_s} s: ${s.file}` : `start: ${s.file}`,
  );
  const w = g.jobWrapper;
  if (w?.file) out.push(`job wrapper: ${w.file}`);
  if (w?.pre_job) out.push(`pre-job (${w.timeout_s} s): ${w.pre_job}`);
  if (w?.post_job) out.push(`post-job (${w.timeout_s} s): ${w.post_job}`);
  return out;
}

/** The lines of `describeVoScripts` for one group of the configuration. */
export function voScriptLines(
  config: {
    scripts?: readonly VoScriptConfig[];
    job_wrapper?: VoJobWrapperConfig;
    groups: readonly {
      name: string;
      scripts?: readonly VoScriptConfig[];
      job_wrapper?: VoJobWrapperConfig;
    }[];
  },
  group: string,
): string[] {
  const g = config.groups.find((x) => x.name === group);
  return g ? describeVoScripts(groupVoScripts(config, g)) : [];
}

export interface StagedVoBundle {
  /** Where pilots fetch the bundle: `<staging url>/<manifest sha256>`. */
  url: string;
  sha256: string;
  files: readonly VoBundleFile[];
}

/** The GlideinParam attributes carrying a group's bundle to its pilots through the factory. */
export function voBundleParams(b: StagedVoBundle | undefined): Record<string, string> {
  return b ? { [VO_BUNDLE_URL_PARAM]: b.url, [VO_BUNDLE_SHA256_PARAM]: b.sha256 } : {};
}

/** A VO script or job wrapper the configuration names cannot be read, or is over the bounds. */
export class VoScriptError extends UpdraftError {
  readonly code = "vo-script";
  override name = "VoScriptError";
}

/**
 * The bundle of one group in memory: each source file read and hashed, named in the bundle by
 * its position and base name (two groups' `check.sh` never collide). Throws naming the file
 * when it cannot be read or is over the bounds pilots hold bundles to.
 */
export function buildVoBundle(
  g: GroupVoScripts,
  read: (file: string) => Buffer = readFileSync,
): { manifest: string; sha256: string; contents: Map<string, Buffer>; bundle: VoBundle } {
  const contents = new Map<string, Buffer>();
  const files: VoBundleFile[] = [];
  const byFile = new Map<string, string>();
  let total = 0;
  const add = (file: string): string => {
    const known = byFile.get(file);
    if (known) return known;
    let data: Buffer;
    try {
      data = read(file);
    } catch (err) {
      throw new VoScriptError(`VO script ${file}: ${(err as Error).message}`);
    }
    if (data.length > VO_BUNDLE_LIMITS.fileBytes) {
      throw new VoScriptError(`VO script ${file} is over ${VO_BUNDLE_LIMITS.fileBytes} bytes`);
    }
    total += data.length;
    if (total > VO_BUNDLE_LIMITS.totalBytes) {
      throw new VoScriptError(`VO scripts are over ${VO_BUNDLE_LIMITS.totalBytes} bytes in all`);
    }
    const safe = basename(file)
      .replace(/[^A-Za-z0-9._@+-]/g, "_")
      .replace(/^\.+/, "_");
    const path = `${files.length + 1}-${safe}`;
    files.push({ path, sha256: sha256Hex(data) });
    contents.set(path, data);
    byFile.set(file, path);
    return path;
  };
  const bundle: VoBundle = { files, start: [], periodic: [] };
  for (const s of g.scripts) {
    const path = add(s.file);
    if (s.when === "periodic") bundle.periodic.push({ path, periodS: s.period_s! });
    else bundle.start.push(path);
  }
  const w = g.jobWrapper;
  if (w?.file) bundle.jobWrapper = add(w.file);
  if (w?.pre_job) bundle.preJob = add(w.pre_job);
  if (w?.post_job) bundle.postJob = add(w.post_job);
  if (w?.pre_job || w?.post_job) bundle.hookTimeoutS = w.timeout_s;
  if (files.length > VO_BUNDLE_LIMITS.files) {
    throw new VoScriptError(`more than ${VO_BUNDLE_LIMITS.files} VO scripts in one group`);
  }
  const manifest = formatVoBundle(bundle);
  return { manifest, sha256: sha256Hex(manifest), contents, bundle };
}

/**
 * Writes the bundle under `dir/<sha256>/` (once: the name is its content), private to the
 * frontend's user as every state file (a web server serving `dir` runs as that user), and gives
 * where pilots fetch it.
 */
export function stageVoBundle(g: GroupVoScripts, dir: string, baseUrl: string): StagedVoBundle {
  const built = buildVoBundle(g);
  const target = join(dir, built.sha256);
  if (!existsSync(join(target, VO_BUNDLE_MANIFEST))) {
    const tmp = `${target}.tmp-${process.pid}`;
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp, { mode: 0o700 });
    for (const [path, data] of built.contents) {
      writeFileSync(join(tmp, path), data, { mode: 0o600 });
    }
    writeFileSync(join(tmp, VO_BUNDLE_MANIFEST), built.manifest, { mode: 0o600 });
    renameSync(tmp, target);
  }
  return {
    url: `${baseUrl.replace(/\/+$/, "")}/${built.sha256}`,
    sha256: built.sha256,
    files: built.bundle.files,
  };
}
