/**
 * The pilot's parameters: from the command line first, then the environment the bootstrap script
 * and the factory set (glideinWMS names where one exists). Pure: takes the environment as input.
 */
import type { Attrs, AttrValue } from "./failure.js";
import { decodeGlideinAttrs, PILOT_ATTRS_ENV } from "../ads/glidein-attrs.js";
import type { LifetimeSettings } from "./lifetime.js";
import type { JobHooks } from "./runner/job-hooks.js";
import { BLACK_HOLE_WINDOW_MS, type BlackHolePolicy } from "./black-hole.js";
import type { IsolationMode } from "./runner/isolation.js";
import type { ValidationSettings } from "./validate/settings.js";
import { FRONTEND_IDENTITY_ENV, GLIDE_CLIENT, GLIDEIN_PARAM, SLOT } from "../ads/names.js";

export interface PilotSettings {
  pilotId: string;
  workDir: string;
  /** The pool's collectors: the slot ad goes to each (several when the pool is highly available). */
  collectors: string[];
  schedds: string[];
  credentialFile?: string;
  /** The credential itself, read into memory at start (see credential-hold.ts). */
  credentialPem?: string;
  /** CA certificates the pilot trusts for the collector and schedds (X509_CERT_DIR-style). */
  trustDir?: string;
  /**
   * The identity of the frontend that asked for this pilot, as the collector records writers:
   * only its `PilotCredential` ad renews the pilot's credential (see credential-renewal.ts).
   */
  frontendIdentity?: string;
  published: Attrs;
  /** VO attributes published as expressions (type expr), by name. */
  publishedExprs: Record<string, string>;
  /** VO attributes every job gets in its environment (job_publish). */
  jobEnv: Record<string, string>;
  start?: string;
  lifetime: LifetimeSettings;
  validation: ValidationSettings;
  reportFile?: string;
  /** Where to list running jobs' process groups for the batch system (see run-pilot.ts). */
  jobGroupsFile?: string;
  /** Namespaces for jobs when the kernel allows (auto), never, or always (see runner/isolation.ts). */
  jobIsolation: IsolationMode;
  /** Directories jobs must not see besides the work directory (the bootstrap's own). */
  hideDirs: string[];
  /** The job wrapper and pre/post-job scripts (see runner/job-hooks.ts). */
  jobHooks: JobHooks;
  /** Seconds a pilot that failed validation keeps its batch slot (see failure-linger.ts). */
  failureLingerS: number;
  /** Machine/Job Features folders the site gives, if any (see machine-features.ts). */
  features: { MACHINEFEATURES?: string; JOBFEATURES?: string };
  /** Black-hole detection (see black-hole.ts); absent when off. */
  blackHole?: BlackHolePolicy;
  /** The VO's script bundle the frontend sent through the factory (see vo-bundle.ts). */
  voBundle?: { url: string; sha256: string };
}

/** What the command line gave; undefined means "look at the environment". */
export interface PilotOptions {
  pilotId?: string;
  workDir?: string;
  collector?: string;
  schedd?: string[];
  credential?: string;
  trustDir?: string;
  entry?: string;
  factory?: string;
  frontend?: string;
  site?: string;
  attr?: string[];
  start?: string;
  maxWalltime?: number;
  retireTime?: number;
  retireSpread?: number;
  maxIdle?: number;
  maxTail?: number;
  grace?: number;
  script?: string[];
  voScript?: string[];
  scriptTimeout?: number;
  minDiskGb?: number;
  minMemoryMb?: number;
  cvmfs?: string[];
  cvmfsRequired?: boolean;
  requireSingularity?: boolean;
  report?: string;
  jobIsolation?: string;
  hideDir?: string[];
  blackholeNumjobs?: number;
  blackholeRate?: number;
  failureLinger?: number;
  jobWrapper?: string;
  jobWrapperSha256?: string;
  preJob?: string;
  preJobSha256?: string;
  postJob?: string;
  postJobSha256?: string;
  hookTimeout?: number;
  voBundle?: string;
  voBundleSha256?: string;
}

export const ENV = {
  collector: "UPDRAFT_COLLECTOR",
  schedds: "UPDRAFT_SCHEDDS",
  /** The names the frontend's GlideinParam attributes arrive under through the factory. */
  glideinCollector: GLIDEIN_PARAM.Collector,
  glideinSchedds: GLIDEIN_PARAM.Schedds,
  client: "GLIDEIN_Client",
  credential: "UPDRAFT_PILOT_CREDENTIAL",
  proxy: "X509_USER_PROXY",
  trustDir: "X509_CERT_DIR",
  pilotId: "UPDRAFT_PILOT_ID",
  start: GLIDE_CLIENT.Start,
  entry: SLOT.EntryName,
  factory: SLOT.Factory,
  frontend: SLOT.Frontend,
  /** Set by the factory: the writer of the request the pilot was made for. */
  frontendIdentity: FRONTEND_IDENTITY_ENV,
  site: SLOT.Site,
  attrs: "UPDRAFT_PILOT_ATTRS",
  maxWalltime: GLIDEIN_PARAM.MaxWalltime,
  /** The walltime the factory asked of the batch system; the pilot must end before it. */
  batchWalltime: "UPDRAFT_PILOT_WALLTIME_S",
  retireTime: GLIDEIN_PARAM.RetireTime,
  retireSpread: "GLIDEIN_Retire_Time_Spread",
  maxIdle: GLIDEIN_PARAM.MaxIdle,
  maxTail: "GLIDEIN_Max_Tail",
  minDisk: "MIN_DISK_GBS",
  scripts: "UPDRAFT_VALIDATION_SCRIPTS",
  voScripts: "UPDRAFT_VO_SCRIPTS",
  cvmfs: "UPDRAFT_CVMFS_REPOS",
  jobGroups: "UPDRAFT_JOB_GROUPS_FILE",
  jobIsolation: "UPDRAFT_JOB_ISOLATION",
  blackholeNumjobs: "GLIDEIN_BLACKHOLE_NUMJOBS",
  blackholeRate: "GLIDEIN_BLACKHOLE_RATE",
  /** Set by the factory from the entry's `pilot.failure_linger_s`. */
  failureLinger: "UPDRAFT_FAILURE_LINGER_S",
  jobWrapper: "UPDRAFT_JOB_WRAPPER",
  jobWrapperSha256: "UPDRAFT_JOB_WRAPPER_SHA256",
  preJob: "UPDRAFT_PRE_JOB",
  preJobSha256: "UPDRAFT_PRE_JOB_SHA256",
  postJob: "UPDRAFT_POST_JOB",
  postJobSha256: "UPDRAFT_POST_JOB_SHA256",
  hookTimeout: "UPDRAFT_JOB_HOOK_TIMEOUT_S",
  /** The frontend's GlideinParams for its VO script bundle, passed on by the factory. */
  voBundle: VO_BUNDLE_URL_PARAM,
  voBundleSha256: VO_BUNDLE_SHA256_PARAM,
} as const;

import { VO_BUNDLE_SHA256_PARAM, VO_BUNDLE_URL_PARAM } from "../common/vo-bundle.js";

const ISOLATION_MODES: readonly IsolationMode[] = ["auto", "none", "required"];

export const DEFAULT_MAX_WALLTIME_S = 48 * 3600;
/** Longest frontend identity taken (a DN or `<iss>#<sub>`). */
const MAX_IDENTITY_CHARS = 1024;

/** "NAME=VALUE" with the value typed: numbers and booleans as such, anything else a string. */
export function parseAttr(text: string): [string, AttrValue] | undefined {
  const eq = text.indexOf("=");
  const name = text.slice(0, Math.max(0, eq)).trim();
  if (eq <= 0 || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) return undefined;
  const raw = text.slice(eq + 1).trim();
  if (/^(true|false)$/i.test(raw)) return [name, raw.toLowerCase() === "true"];
  if (raw !== "" && /^-?\d+(\.\d+)?$/.test(raw)) return [name, Number(raw)];
  return [name, raw.replace(/^"(.*)"$/, "$1")];
}

const list = (v: string | undefined) =>
  (v ?? "")
    .split(/[,\s]+/)
    .map((s) => s.trim())
    .filter(Boolean);

export type SettingsResult =
  { ok: true; settings: PilotSettings } | { ok: false; problems: string[] };

export function resolveSettings(
  o: PilotOptions,
  env: Readonly<Record<string, string | undefined>>,
  makeId: () => string,
): SettingsResult {
  const problems: string[] = [];
  const num = (cli: number | undefined, name: string): number | undefined => {
    if (cli !== undefined) return cli;
    const v = env[name];
    if (v === undefined || v === "") return undefined;
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) problems.push(`${name}=${v} is not a non-negative number`);
    return Number.isFinite(n) ? n : undefined;
  };
  const published: Attrs = {};
  const publishedExprs: Record<string, string> = {};
  const jobEnv: Record<string, string> = {};
  // The VO's attributes first: the site's and the system's below are written over them.
  const voAttrs = env[PILOT_ATTRS_ENV] ? decodeGlideinAttrs(env[PILOT_ATTRS_ENV]) : undefined;
  if (voAttrs && !voAttrs.ok) {
    problems.push(...voAttrs.problems.map((p) => `${PILOT_ATTRS_ENV}: ${p}`));
  }
  for (const a of voAttrs?.ok ? voAttrs.attrs : []) {
    if (a.publish && a.type === "expr") publishedExprs[a.name] = String(a.value);
    else if (a.publish) published[a.name] = a.value;
    if (a.job) jobEnv[a.name] = String(a.value);
  }
  // Separated by newlines or semicolons, since values may hold commas.
  for (const a of [
    ...(env[ENV.attrs] ?? "").split(/[;\n]/).filter((s) => s.trim()),
    ...(o.attr ?? []),
  ]) {
    const kv = parseAttr(a);
    if (kv) published[kv[0]] = kv[1];
    else problems.push(`attribute "${a}" is not NAME=VALUE`);
  }
  const named: [string, string | undefined][] = [
    [SLOT.EntryName, o.entry ?? env[ENV.entry]],
    [SLOT.Factory, o.factory ?? env[ENV.factory]],
    [SLOT.Frontend, o.frontend ?? env[ENV.frontend]],
    [SLOT.Site, o.site ?? env[ENV.site]],
  ];
  for (const [k, v] of named) if (v) published[k] = v;
  // The frontend finds its own pilots' slots by the client name it gave the factory.
  const client = env[ENV.client];
  if (client) {
    published[SLOT.ClientName] = client;
    const frontend = published[SLOT.Frontend];
    if (typeof frontend === "string" && client.startsWith(`${frontend}.`)) {
      published[SLOT.ClientGroup] = client.slice(frontend.length + 1);
    }
  }
  // The batch system kills the pilot at its walltime, jobs and all: live within it.
  const batchWalltimeS = num(undefined, ENV.batchWalltime);
  const maxWalltimeS = Math.min(
    num(o.maxWalltime, ENV.maxWalltime) ?? DEFAULT_MAX_WALLTIME_S,
    batchWalltimeS || Infinity,
  );
  const lifetime: LifetimeSettings = {
    maxWalltimeS,
    retireTimeS: num(o.retireTime, ENV.retireTime),
    retireSpreadS: num(o.retireSpread, ENV.retireSpread),
    maxIdleS: num(o.maxIdle, ENV.maxIdle),
    maxTailS: num(o.maxTail, ENV.maxTail),
    graceS: o.grace ?? Math.min(120, Math.floor(maxWalltimeS / 10)),
  };
  // One URL or a comma list, as glideinWMS's GLIDEIN_Collector and HTCondor's COLLECTOR_HOST.
  const collectors = list(
    o.collector ?? (env[ENV.collector] || undefined) ?? (env[ENV.glideinCollector] || undefined),
  );
  const schedds = o.schedd?.length ? o.schedd : list(env[ENV.schedds] || env[ENV.glideinSchedds]);
  const credentialFile =
    o.credential ?? (env[ENV.credential] || undefined) ?? (env[ENV.proxy] || undefined);
  const trustDir = o.trustDir ?? (env[ENV.trustDir] || undefined);
  const frontendIdentity = env[ENV.frontendIdentity] || undefined;
  if (frontendIdentity !== undefined && frontendIdentity.length > MAX_IDENTITY_CHARS) {
    problems.push(`${ENV.frontendIdentity} is longer than ${MAX_IDENTITY_CHARS} characters`);
  }
  const scripts = [
    ...(o.script ?? list(env[ENV.scripts])).map((path) => ({ path, kind: "site" as const })),
    ...(o.voScript ?? list(env[ENV.voScripts])).map((path) => ({ path, kind: "vo" as const })),
  ];
  const isolation = o.jobIsolation ?? (env[ENV.jobIsolation] || "auto");
  if (!ISOLATION_MODES.includes(isolation as IsolationMode)) {
    problems.push(`job isolation "${isolation}" is not one of ${ISOLATION_MODES.join(", ")}`);
  }
  // As glideinWMS: a rate of 0 or none turns detection off; NUMJOBS alone does nothing.
  const blackholeRate = num(o.blackholeRate, ENV.blackholeRate) ?? 0;
  const blackholeNumjobs = Math.floor(num(o.blackholeNumjobs, ENV.blackholeNumjobs) ?? 10);
  const wrapper = o.jobWrapper ?? (env[ENV.jobWrapper] || undefined);
  const preJob = o.preJob ?? (env[ENV.preJob] || undefined);
  const postJob = o.postJob ?? (env[ENV.postJob] || undefined);
  const hookSha = (role: string, given: string | undefined, name: keyof typeof ENV) => {
    const sha = given ?? (env[ENV[name]] || undefined);
    if (sha !== undefined && !/^[0-9a-fA-F]{64}$/.test(sha)) {
      problems.push(`${role} SHA-256 "${sha}" is not 64 hex digits`);
    }
    return sha;
  };
  const wrapperSha = hookSha("job wrapper", o.jobWrapperSha256, "jobWrapperSha256");
  const preJobSha = hookSha("pre-job script", o.preJobSha256, "preJobSha256");
  const postJobSha = hookSha("post-job script", o.postJobSha256, "postJobSha256");
  const voUrl = o.voBundle ?? (env[ENV.voBundle] || undefined);
  const voSha = o.voBundleSha256 ?? (env[ENV.voBundleSha256] || undefined);
  if ((voUrl === undefined) !== (voSha === undefined)) {
    problems.push("a VO bundle needs both its URL and its SHA-256");
  }
  if (voUrl !== undefined && !/^https?:\/\/[^\s]+$/.test(voUrl)) {
    problems.push(`VO bundle URL "${voUrl}" is not an http:// or https:// URL`);
  }
  if (voSha !== undefined && !/^[0-9a-f]{64}$/.test(voSha)) {
    problems.push(`VO bundle SHA-256 "${voSha}" is not 64 lowercase hex digits`);
  }
  const hookTimeoutMs = (num(o.hookTimeout, ENV.hookTimeout) ?? 300) * 1000;
  const settings: PilotSettings = {
    pilotId: o.pilotId ?? (env[ENV.pilotId] || makeId()),
    workDir: o.workDir ?? process.cwd(),
    collectors,
    schedds,
    credentialFile,
    trustDir,
    ...(frontendIdentity !== undefined ? { frontendIdentity } : {}),
    published,
    publishedExprs,
    jobEnv,
    start: o.start ?? (env[ENV.start] || undefined),
    lifetime,
    reportFile: o.report,
    jobGroupsFile: env[ENV.jobGroups] || undefined,
    jobIsolation: isolation as IsolationMode,
    hideDirs: o.hideDir ?? [],
    jobHooks: {
      ...(wrapper ? { wrapper } : {}),
      ...(preJob ? { preJob: { path: preJob, timeoutMs: hookTimeoutMs } } : {}),
      ...(postJob ? { postJob: { path: postJob, timeoutMs: hookTimeoutMs } } : {}),
    },
    failureLingerS: num(o.failureLinger, ENV.failureLinger) ?? 0,
    ...(voUrl && voSha ? { voBundle: { url: voUrl, sha256: voSha } } : {}),
    features: {
      ...(env.MACHINEFEATURES ? { MACHINEFEATURES: env.MACHINEFEATURES } : {}),
      ...(env.JOBFEATURES ? { JOBFEATURES: env.JOBFEATURES } : {}),
    },
    ...(blackholeRate > 0 && blackholeNumjobs > 0
      ? {
          blackHole: {
            numJobs: blackholeNumjobs,
            rate: blackholeRate,
            windowMs: BLACK_HOLE_WINDOW_MS,
          },
        }
      : {}),
    validation: {
      minDiskGb: num(o.minDiskGb, ENV.minDisk),
      minMemoryMb: o.minMemoryMb,
      cvmfsRepos: o.cvmfs?.length ? o.cvmfs : list(env[ENV.cvmfs]),
      cvmfsRequired: o.cvmfsRequired,
      singularityRequired: o.requireSingularity,
      credentialFile,
      // The credential must outlive the pilot's lifetime, up to the graceful stop.
      credentialMinS: Math.max(0, maxWalltimeS - (lifetime.graceS ?? 0)),
      // Renewal comes through a collector, from the frontend the factory named.
      credentialRenewable: collectors.length > 0 && frontendIdentity !== undefined,
      urls: schedds,
      // Advertising to any one collector of the pool is enough; the others may be down.
      ...(collectors.length > 0 ? { urlsOneOf: [collectors] } : {}),
      scripts,
      scriptTimeoutMs: (o.scriptTimeout ?? 60) * 1000,
      jobHooks: [
        ...(wrapper
          ? [{ role: "job wrapper", path: wrapper, ...(wrapperSha ? { sha256: wrapperSha } : {}) }]
          : []),
        ...(preJob
          ? [{ role: "pre-job script", path: preJob, ...(preJobSha ? { sha256: preJobSha } : {}) }]
          : []),
        ...(postJob
          ? [
              {
                role: "post-job script",
                path: postJob,
                ...(postJobSha ? { sha256: postJobSha } : {}),
              },
            ]
          : []),
      ],
    },
  };
  return problems.length ? { ok: false, problems } : { ok: true, settings };
}
