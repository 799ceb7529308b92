/**
 * Runs one job as a child process in its sandbox and watches it: walltime, memory of the whole
 * process tree, kill on request. The start itself is a JobLauncher's (launcher.ts): the pilot's
 * launcher process, or this process. Returns a handle at once; `done` settles with the outcome
 * and never rejects (a job that cannot start, or lost with its launcher, is an outcome too).
 */
import { constants as osConstants } from "node:os";
import { dirname, join } from "node:path";
import { isolatedCommand, type JobIsolation } from "./isolation.js";
import type { JobSpec } from "./job-spec.js";
import type { LaunchRequest } from "./launch-protocol.js";
import { inProcessLauncher, type JobLauncher, type LaunchEvent } from "./launcher.js";
import { sampleProcess, sampleProcessGroup } from "./proc-tree.js";

export type KillKind = "memory" | "walltime" | "removed" | "held" | "pilot-stop";

export interface JobOutcome {
  jobId: string;
  exitCode: number | null;
  signal: string | null;
  wallS: number;
  userS: number;
  sysS: number;
  peakRssMb: number;
  /** Set when the pilot ended the job; holdReason is for the schedd's HoldReason. */
  killed?: { kind: KillKind; holdReason?: string };
  /** The job could not be started at all. */
  startError?: string;
  /** What could not be done, in HTCondor's hold codes (6 exec, 7 output, 8 input), and errno. */
  startFailure?: { code: number; subcode: number };
  /** The job never ran because the node's own hook failed (see job-hooks.ts): hand it back. */
  nodeFault?: string;
}

/** HTCondor's hold codes for a job the starter could not start. */
const START_HOLD = { exec: 6, output: 7, input: 8 } as const;

export interface RunningJob {
  jobId: string;
  /** The job's pid and process group, once started. */
  readonly pid: number | undefined;
  /** Settles with the pid once the job started, or undefined if it never did. */
  started?: Promise<number | undefined>;
  /** TERM the process group, KILL it after the grace period. */
  kill(kind: KillKind, holdReason?: string): void;
  done: Promise<JobOutcome>;
}

export interface RunnerOptions {
  /** How often to sample /proc, ms. */
  pollMs?: number;
  /** Time between SIGTERM and SIGKILL, ms. */
  killGraceMs?: number;
  /** The pilot's environment the job inherits (PATH...), before the job's own variables. */
  baseEnv?: Record<string, string | undefined>;
  procDir?: string;
  /** How jobs are isolated from the pilot (detected once at pilot start); none by default. */
  isolation?: JobIsolation;
  /**
   * Copies of the job wrappers inside the sandbox, outermost first (the site's, then the VO's):
   * run as `site-wrapper vo-wrapper executable args...`, each exec-ing the rest.
   */
  wrappers?: readonly string[];
  /** The VO's job_publish attributes: every job gets them, under its own variables. */
  voEnv?: Readonly<Record<string, string>>;
  /** What starts the job: the pilot's job launcher process, or this process by default. */
  launcher?: JobLauncher;
}

/** The job's spec with the VO's variables under its own (a job's environment wins). */
export function withVoEnv(spec: JobSpec, voEnv: RunnerOptions["voEnv"]): JobSpec {
  return voEnv && Object.keys(voEnv).length ? { ...spec, env: { ...voEnv, ...spec.env } } : spec;
}

const SIGNAL_NAMES = new Map(
  Object.entries(osConstants.signals).map(([name, n]) => [n, name as NodeJS.Signals]),
);

/** An isolated job's shell reports a job killed by signal N as 128+N: back to the signal. */
function signalOfStatus(code: number | null): NodeJS.Signals | undefined {
  return code !== null && code > 128 ? SIGNAL_NAMES.get(code - 128) : undefined;
}

export function formatDuration(totalS: number): string {
  const s = Math.floor(totalS);
  const d = Math.floor(s / 86400);
  const hh = String(Math.floor((s % 86400) / 3600)).padStart(2, "0");
  const mm = String(Math.floor((s % 3600) / 60)).padStart(2, "0");
  return `${d}+${hh}:${mm}:${String(s % 60).padStart(2, "0")}`;
}

export function jobEnv(
  spec: JobSpec,
  base: Record<string, string | undefined>,
): Record<string, string> {
  const scratch = spec.sandboxDir;
  const tmp = join(scratch, "tmp");
  const env: Record<string, string> = {};
  for (const k of ["PATH", "LANG", "HOME", "USER", "LOGNAME"]) {
    const v = base[k];
    if (v !== undefined) env[k] = v;
  }
  Object.assign(env, spec.env, {
    _CONDOR_SCRATCH_DIR: scratch,
    _CONDOR_JOB_IWD: scratch,
    TMPDIR: tmp,
    TMP: tmp,
    TEMP: tmp,
  });
  if (spec.credentialFile) env.X509_USER_PROXY = spec.credentialFile;
  if (spec.tokenFile) env.BEARER_TOKEN_FILE = spec.tokenFile;
  return env;
}

export function startJob(given: JobSpec, opts: RunnerOptions = {}): RunningJob {
  const spec = withVoEnv(given, opts.voEnv);
  const pollMs = opts.pollMs ?? 1000;
  const graceMs = opts.killGraceMs ?? 10_000;
  const t0 = performance.now();
  let killed: JobOutcome["killed"];
  let peakRss = 0;
  let last = { userS: 0, sysS: 0 };
  let settled = false;
  let settleDone!: (o: JobOutcome) => void;
  const done = new Promise<JobOutcome>((r) => (settleDone = r));
  let announce!: (pid: number | undefined) => void;
  const started = new Promise<number | undefined>((r) => (announce = r));
  const timers: NodeJS.Timeout[] = [];
  let pid: number | undefined;
  const settle = (o: JobOutcome) => {
    if (settled) return;
    settled = true;
    // clearTimeout clears intervals too in Node; the poller lives in the same list.
    for (const t of timers) clearTimeout(t);
    announce(undefined);
    settleDone(o);
  };

  const isolation = opts.isolation?.kind === "namespaces" ? opts.isolation : undefined;
  let command = { command: spec.executable, args: spec.args };
  const wrappers = opts.wrappers ?? [];
  if (wrappers.length > 0) {
    command = {
      command: wrappers[0]!,
      args: [...wrappers.slice(1), spec.executable, ...spec.args],
    };
  }
  if (isolation) {
    command = isolatedCommand(isolation, spec.sandboxDir, command.command, command.args);
  }
  // `output = out/job.out` names a folder under the sandbox, as under the submit directory;
  // the sandbox itself exists, and asking again costs system calls on every job.
  const dirs = new Set([join(spec.sandboxDir, "tmp")]);
  for (const f of [spec.stdout, spec.stderr]) {
    if (f !== "/dev/null" && dirname(f) !== spec.sandboxDir) dirs.add(dirname(f));
  }
  const request: LaunchRequest = {
    ...command,
    cwd: spec.sandboxDir,
    env: jobEnv(spec, opts.baseEnv ?? process.env),
    ...(spec.stdin ? { stdin: spec.stdin } : {}),
    stdout: spec.stdout,
    stderr: spec.stderr,
    dirs: [...dirs],
    // Checked first so a missing or non-executable program is a start failure, as it is
    // without isolation or wrapper, rather than an exit status from inside them.
    ...(isolation || wrappers.length > 0 ? { checkExecutable: spec.executable } : {}),
  };

  function finish(code: number | null, signal: string | null): JobOutcome {
    return {
      jobId: spec.jobId,
      exitCode: code,
      signal,
      wallS: (performance.now() - t0) / 1000,
      userS: last.userS,
      sysS: last.sysS,
      peakRssMb: Math.round((peakRss / 1048576) * 10) / 10,
      ...(killed ? { killed } : {}),
    };
  }

  function poll(leaderOnly = false): void {
    if (pid === undefined) return;
    const s = leaderOnly ? sampleProcess(pid, opts.procDir) : sampleProcessGroup(pid, opts.procDir);
    if (s.pids.length === 0) return;
    peakRss = Math.max(peakRss, s.rssBytes);
    // CPU of exited group members is lost unless the leader reaped them; keep the maximum.
    last = { userS: Math.max(last.userS, s.userS), sysS: Math.max(last.sysS, s.sysS) };
    const limit = spec.memoryLimitMb;
    if (limit !== undefined && s.rssBytes > limit * 1048576) {
      const peakMb = Math.ceil(peakRss / 1048576);
      kill(
        "memory",
        `Job has gone over memory limit of ${limit} megabytes. Peak usage: ${peakMb} megabytes.`,
        true,
      );
    }
  }

  function onEvent(e: LaunchEvent): void {
    if (e.kind === "started") {
      pid = e.pid;
      announce(pid);
      timers.push(setInterval(poll, pollMs));
      // A first look soon after start catches short memory spikes and gives short jobs a
      // sample. It reads the leader alone: a walk of the whole group reads every process on the
      // node (about 10 ms of CPU with a hundred or so), which for short jobs was the pilot's
      // largest cost per job; the periodic walk still covers the whole group.
      timers.push(setTimeout(() => poll(true), Math.min(20, pollMs)));
    } else if (e.kind === "failed") {
      const outcome = finish(null, null);
      outcome.startError = e.message;
      outcome.startFailure = { code: START_HOLD[e.stage], subcode: e.errno };
      settle(outcome);
    } else if (e.kind === "exited") {
      const bySignal = isolation && e.signal === null ? signalOfStatus(e.code) : undefined;
      settle(bySignal ? finish(null, bySignal) : finish(e.code, e.signal));
    } else {
      // Killed with the launcher that lost its status (launcher.ts logs why): back to the
      // queue as a pilot stop, unless the pilot was ending it anyway.
      killed ??= { kind: "pilot-stop" };
      settle(finish(null, null));
    }
  }

  const launched = (opts.launcher ?? inProcessLauncher).launch(request, onEvent);

  function kill(kind: KillKind, holdReason?: string, immediately = false): void {
    if (killed || settled) return;
    killed = { kind, ...(holdReason ? { holdReason } : {}) };
    if (immediately) return launched.signal("SIGKILL");
    launched.signal("SIGTERM");
    timers.push(setTimeout(() => launched.signal("SIGKILL"), graceMs).unref());
  }

  if (!settled && spec.walltimeS !== undefined) {
    const limitS = spec.walltimeS;
    timers.push(
      setTimeout(
        () =>
          kill(
            "walltime",
            `The job exceeded allowed execute duration of ${formatDuration(limitS)}`,
          ),
        Math.max(0, limitS * 1000),
      ),
    );
  }
  if (!settled && spec.pilotDeadlineS !== undefined) {
    timers.push(setTimeout(() => kill("pilot-stop"), Math.max(0, spec.pilotDeadlineS * 1000)));
  }
  return {
    jobId: spec.jobId,
    get pid() {
      return pid;
    },
    started,
    kill: (k, r) => kill(k, r),
    done,
  };
}
