/**
 * The pilot process's edge: marker lines, validation, lifetime plan, the main loop, the report.
 * Connections to the collector and schedds come from `connect`, which the integration supplies;
 * without it a pilot given no collector or schedd runs standalone (validates, idles, reports).
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { NODE } from "../ads/names.js";
import { ClassAd } from "../classad/index.js";
import { abortableSleep, systemClock, type Clock } from "../common/clock.js";
import type { Logger } from "../common/logger.js";
import { EXIT_CODES, type PilotFailure } from "./failure.js";
import type { JobSource, SlotAdvertiser } from "./interfaces.js";
import { planLifetime, type LifetimePlan } from "./lifetime.js";
import { formatReport, startMarker, type PilotExitReason, type PilotReport } from "./report.js";
import { runPilot, type PilotRunResult } from "./run-pilot.js";
import type { PilotSettings } from "./settings.js";
import {
  detectIsolation,
  ISOLATION_ATTR,
  pilotMemoryExposure,
  type JobIsolation,
} from "./runner/isolation.js";
import { buildSlotAd } from "./slot-ad.js";
import { readShutdownMs } from "./machine-features.js";
import { lingerAfterFailure } from "./failure-linger.js";
import {
  runValidation,
  type CheckRecord,
  type NodeView,
  type ValidationResult,
} from "./validate/index.js";
import { fetchVoBundle, periodicScripts, withVoBundle } from "./vo-bundle.js";
import { startPeriodicScripts, type PeriodicScript } from "./periodic-scripts.js";
import { hasErrorCode, UpdraftError } from "../common/errors.js";

export interface PilotConnections {
  /** One per schedd; grows when a renewal names schedds found since (see connect.ts). */
  sources: JobSource[];
  advertiser: SlotAdvertiser;
  /** When a renewable credential ends, no renewal having come in time (ms); credential-renewal.ts. */
  credentialEnd?: () => number | undefined;
  close(): Promise<void>;
}

export type ConnectFn = (s: PilotSettings, log?: Logger) => Promise<PilotConnections>;

export const newPilotId = () => `pilot-${randomBytes(6).toString("hex")}`;

/** Standalone: nothing to claim from, nobody to advertise to. */
const standalone: PilotConnections = {
  sources: [],
  advertiser: { advertise: async () => {}, invalidate: async () => {} },
  close: async () => {},
};

export class NoConnectorError extends UpdraftError {
  readonly code = "pilot-no-connector";
  constructor() {
    super("this build has no collector/schedd client for the pilot yet; run without URLs");
    this.name = "NoConnectorError";
  }
}

/** Without URLs: standalone. With them: the real clients (loaded only when needed). */
const defaultConnect: ConnectFn = async (s, log) => {
  if (s.collectors.length === 0 && s.schedds.length === 0) return standalone;
  const { connectReal } = await import("./connect.js");
  return connectReal(s, log);
};

/** Where the credential caps the pilot's life: a renewable one's `renew_until`, else its end. */
export function credentialEndMs(v: ValidationResult): number | undefined {
  const t = v.attrs[NODE.CredentialRenewUntil] ?? v.attrs[NODE.CredentialNotAfter];
  return typeof t === "number" ? t * 1000 : undefined;
}

/** The slot ad the pilot would advertise right after validation. */
export function initialSlotAd(
  s: PilotSettings,
  v: ValidationResult,
  host: string,
  plan: LifetimePlan,
  nowMs: number,
): ClassAd | undefined {
  if (!v.resources) return undefined;
  return buildSlotAd({
    id: { pilotId: s.pilotId, host },
    nodeAttrs: v.attrs,
    published: s.published,
    publishedExprs: s.publishedExprs,
    total: v.resources,
    remaining: v.resources,
    start: s.start,
    plan,
    retired: false,
    jobs: [],
    nowMs,
  });
}

/**
 * Detected once per pilot: a probe job costs a few process starts, made while the connections
 * the pilot started first open.
 */
async function isolationFor(s: PilotSettings, o: PilotProcessOptions): Promise<JobIsolation> {
  const iso = o.isolation ?? (await detectIsolation(s.workDir, s.hideDirs, s.jobIsolation));
  if (iso.kind === "none") {
    o.log?.info({ reason: iso.reason }, "jobs run without isolation");
    const memory = pilotMemoryExposure(o.view.readFile("/proc/sys/kernel/yama/ptrace_scope"));
    if (memory.exposed) {
      o.log?.warn(
        { why: memory.why },
        "jobs can read this pilot's memory (and the credential it holds); require JobIsolation or set kernel.yama.ptrace_scope = 1",
      );
    }
  } else o.log?.info({ hidden: iso.hide }, "jobs run in their own user, mount and pid namespaces");
  return iso;
}

export interface PilotProcessOptions {
  view: NodeView;
  write: (text: string) => void;
  connect?: ConnectFn;
  clock?: Clock;
  random?: () => number;
  terminate?: AbortSignal;
  log?: Logger;
  /** Tests may give the isolation; by default it is detected once here. */
  isolation?: JobIsolation;
  /** Waits `ms` or until `signal` aborts; tests with a ManualClock advance it here. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/** Runs a whole pilot; resolves with the process exit code. */
export async function runPilotProcess(s: PilotSettings, o: PilotProcessOptions): Promise<number> {
  const clock = o.clock ?? systemClock;
  const started = clock.now();
  o.write(`${startMarker(new Date(started))}\n`);
  // The clients load and their TLS connections open while the node is checked, so the first
  // claim does not wait for them after the checks; a node that fails closes them unused.
  const connecting = settle((o.connect ?? defaultConnect)(s, o.log));
  const vo = await fetchVo(s);
  const validation = await runValidation(o.view, vo.validation, new Date(started));
  if (vo.failed) {
    // Fetched before any check ran: the bundle's failure is the pilot's.
    validation.checks.unshift(vo.failed);
    validation.ok = false;
    validation.failure = vo.failed.failure;
  }
  let run: PilotRunResult | undefined;
  let exit: PilotReport["exit"];
  const failed = (reason: PilotExitReason, f: PilotFailure): PilotReport["exit"] => ({
    reason,
    code: EXIT_CODES[f.class],
    failureClass: f.class,
    message: f.message,
  });
  const isolation = validation.ok ? await isolationFor(s, o) : undefined;
  if (validation.failure) exit = failed("validation", validation.failure);
  else if (!validation.resources) {
    exit = failed("validation", { class: "WN_Resource", message: "node resources unknown" });
  } else if (isolation?.kind === "none" && s.jobIsolation === "required") {
    exit = failed("validation", {
      class: "WN_Resource",
      message: `job isolation is required and ${isolation.reason}`,
    });
  } else {
    const plan = planLifetime(
      s.lifetime,
      started,
      o.random ?? Math.random,
      credentialEndMs(validation),
    );
    let conn: PilotConnections | undefined;
    try {
      conn = await unwrap(connecting);
      run = await runPilot({
        clock,
        plan,
        identity: { pilotId: s.pilotId, host: o.view.host },
        resources: validation.resources,
        nodeAttrs: { ...validation.attrs, [ISOLATION_ATTR]: isolation?.kind ?? "none" },
        published: s.published,
        publishedExprs: s.publishedExprs,
        start: s.start,
        workDir: s.workDir,
        sources: conn.sources,
        advertiser: conn.advertiser,
        ...(conn.credentialEnd ? { credentialEnd: conn.credentialEnd } : {}),
        terminate: o.terminate,
        jobGroupsFile: s.jobGroupsFile,
        blackHole: s.blackHole,
        jobHooks: vo.jobHooks,
        ...(vo.periodic.length > 0
          ? {
              periodicChecks: (onChange: () => void) =>
                startPeriodicScripts({
                  view: o.view,
                  scripts: vo.periodic,
                  attrsSoFar: () => ({ ...validation.attrs }),
                  timeoutMs: s.validation.scriptTimeoutMs ?? 60_000,
                  onChange,
                }),
            }
          : {}),
        ...(s.features.MACHINEFEATURES || s.features.JOBFEATURES
          ? { shutdownTime: () => readShutdownMs(s.features) }
          : {}),
        log: o.log,
        runnerOptions: { isolation, voEnv: s.jobEnv },
      });
      exit =
        run.reason === "blackhole"
          ? failed("blackhole", { class: "BlackHole", message: run.blackHole ?? "black hole" })
          : run.reason === "job-hook"
            ? failed("job-hook", { class: "WN_Resource", message: run.hookFault ?? "job hook" })
            : { reason: run.reason, code: 0 };
    } catch (err) {
      const cls = hasErrorCode(err, "pilot-no-connector", "pilot-config") ? "Config" : "Network";
      exit = failed(cls === "Config" ? "config" : "error", {
        class: cls,
        message: (err as Error).message,
      });
    } finally {
      await conn?.close();
    }
  }
  if (exit.reason === "validation") await closeUnused(connecting, o.log);
  if (exit.reason === "validation" && s.failureLingerS > 0) {
    await linger(s, o, clock, exit, validation.attrs);
  }
  const ended = clock.now();
  const report: PilotReport = {
    version: 1,
    pilotId: s.pilotId,
    host: o.view.host,
    ...(s.published.GLIDEIN_Entry_Name ? { entry: String(s.published.GLIDEIN_Entry_Name) } : {}),
    ...(s.published.GLIDEIN_Factory ? { factory: String(s.published.GLIDEIN_Factory) } : {}),
    ...(s.published.GLIDEIN_Frontend ? { frontend: String(s.published.GLIDEIN_Frontend) } : {}),
    startedAt: new Date(started).toISOString(),
    endedAt: new Date(ended).toISOString(),
    durationS: (ended - started) / 1000,
    validation: {
      ok: validation.ok,
      ...(validation.failure ? { failure: validation.failure } : {}),
      checks: validation.checks.map(({ name, ok, failure, ms }) => ({
        name,
        ok,
        ...(failure ? { failure } : {}),
        ms,
      })),
    },
    jobs: run?.jobs ?? [],
    idleS: run?.idleS ?? 0,
    exit,
  };
  const text = formatReport(report);
  try {
    const file = s.reportFile ?? join(s.workDir, "pilot-report.json");
    mkdirSync(join(file, ".."), { recursive: true });
    writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  } catch (err) {
    o.log?.warn({ err }, "cannot write the report file");
  }
  o.write(text);
  return exit.code;
}

type Settled<T> = { ok: true; value: T } | { ok: false; err: unknown };

/** A promise that never rejects: it may be awaited long after it settled, or not at all. */
function settle<T>(p: Promise<T>): Promise<Settled<T>> {
  return p.then(
    (value) => ({ ok: true, value }),
    (err: unknown) => ({ ok: false, err }),
  );
}

async function unwrap<T>(p: Promise<Settled<T>>): Promise<T> {
  const r = await p;
  if (!r.ok) throw r.err;
  return r.value;
}

/** Connections opened for a node that then failed its checks: closed, their errors beside it. */
async function closeUnused(p: Promise<Settled<PilotConnections>>, log?: Logger): Promise<void> {
  const r = await p;
  if (!r.ok) return;
  await r.value.close().catch((err: unknown) => log?.debug({ err }, "closing unused connections"));
}

/**
 * The VO's bundle, when the frontend sent one: fetched and checked into the work directory, its
 * scripts and hooks added to the settings. A bundle that cannot be had is a failed check.
 */
async function fetchVo(s: PilotSettings): Promise<{
  validation: PilotSettings["validation"];
  jobHooks: PilotSettings["jobHooks"];
  periodic: PeriodicScript[];
  failed?: CheckRecord & { failure: PilotFailure };
}> {
  const none = { validation: s.validation, jobHooks: s.jobHooks, periodic: [] };
  if (!s.voBundle) return none;
  const t0 = performance.now();
  const r = await fetchVoBundle(s.voBundle, join(s.workDir, "vo-bundle"), {
    ...(s.trustDir ? { trustDir: s.trustDir } : {}),
  });
  if (!r.ok) {
    const ms = Math.round((performance.now() - t0) * 10) / 10;
    return { ...none, failed: { name: "vo-bundle", ok: false, failure: r.failure, ms } };
  }
  return { ...withVoBundle(s.validation, s.jobHooks, r.value), periodic: periodicScripts(r.value) };
}

/**
 * A pilot that failed validation keeps its batch slot `failureLingerS` (never past its own
 * walltime), advertising why; see failure-linger.ts.
 */
async function linger(
  s: PilotSettings,
  o: PilotProcessOptions,
  clock: Clock,
  exit: PilotReport["exit"],
  nodeAttrs: ValidationResult["attrs"],
): Promise<void> {
  const now = clock.now();
  const lingerS = Math.min(s.failureLingerS, s.lifetime.maxWalltimeS - (s.lifetime.graceS ?? 0));
  if (lingerS <= 0) return;
  let conn: PilotConnections | undefined;
  if (s.collectors.length > 0) {
    try {
      conn = await (o.connect ?? defaultConnect)({ ...s, schedds: [] }, o.log);
    } catch (err) {
      o.log?.warn({ err }, "cannot reach the collector to advertise the failure");
    }
  }
  try {
    await lingerAfterFailure({
      ad: {
        id: { pilotId: s.pilotId, host: o.view.host },
        published: s.published,
        nodeAttrs,
        failure: { class: exit.failureClass!, message: exit.message ?? "" },
        exitCode: exit.code,
        nowMs: now,
        untilMs: now + lingerS * 1000,
      },
      advertiser: conn?.advertiser,
      clock,
      sleep: o.sleep ?? abortableSleep,
      terminate: o.terminate,
      log: o.log,
    });
  } finally {
    await conn?.close().catch(() => {});
  }
}
