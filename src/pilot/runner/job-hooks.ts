/**
 * The job wrapper hook, as glideinWMS's job wrappers (HTCondor's USER_JOB_WRAPPER): a site or VO
 * names a script through which every job starts (it gets the job's executable and arguments as
 * its own and must exec them, so the job's environment, exit code and signals pass through
 * unchanged), and optional pre-job and post-job scripts, each with a time limit. This is where a
 * container runner plugs in. A pre-job script that fails is the node's fault, not the job's: the
 * job goes back to the queue and the pilot ends (see run-pilot.ts); a post-job failure is logged
 * and changes nothing about the job's outcome.
 */
import { spawn } from "node:child_process";
import { chmodSync, copyFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { hashMismatch } from "../validate/check-job-hooks.js";
import type { JobSpec } from "./job-spec.js";
import {
  jobEnv,
  startJob,
  type JobOutcome,
  type KillKind,
  type RunnerOptions,
  type RunningJob,
  withVoEnv,
} from "./run-job.js";

export interface JobHook {
  path: string;
  timeoutMs: number;
  /** Expected SHA-256 (a VO bundle's), checked right before each run; a mismatch is not run. */
  sha256?: string;
}

export interface JobHooks {
  /** Runs every job: `wrapper <executable> <arguments...>`. */
  wrapper?: string;
  preJob?: JobHook;
  postJob?: JobHook;
  /**
   * The VO's, from the frontend's bundle, as glideinWMS orders them: its wrapper runs inside the
   * site's, its pre-job script after the site's, its post-job script before the site's.
   */
  voWrapper?: string;
  /** The VO wrapper's SHA-256, checked on the sandbox's copy before each job starts through it. */
  voWrapperSha256?: string;
  voPreJob?: JobHook;
  voPostJob?: JobHook;
}

/** Where the wrapper is copied in the sandbox: jobs in namespaces do not see the pilot's dirs. */
export const WRAPPER_IN_SANDBOX = join("tmp", ".updraft-job-wrapper");
export const VO_WRAPPER_IN_SANDBOX = join("tmp", ".updraft-vo-job-wrapper");

export type HookResult = { ok: true } | { ok: false; message: string };

/**
 * Runs a pre- or post-job script in the sandbox with the job's environment, within its limit.
 * `stop` (the pilot stopping) kills it at once. It settles when the script exits, not when its
 * output closes: a descendant that left its process group could hold stderr open for ever.
 */
export function runHook(
  hook: JobHook,
  spec: JobSpec,
  base: Record<string, string | undefined>,
  stop?: AbortSignal,
): Promise<HookResult> {
  if (hook.sha256 !== undefined) {
    const bad = hashMismatch(hook.path, hook.sha256);
    if (bad) return Promise.resolve({ ok: false, message: `not run: ${bad}` });
  }
  return new Promise((resolve) => {
    if (stop?.aborted) {
      resolve({ ok: false, message: `${hook.path} not run: the pilot is stopping` });
      return;
    }
    let stderr = "";
    let ended: "timeout" | "stopped" | undefined;
    let settled = false;
    let child: ReturnType<typeof spawn>;
    try {
      child = spawn(hook.path, [], {
        cwd: spec.sandboxDir,
        env: jobEnv(spec, base),
        stdio: ["ignore", "ignore", "pipe"],
        detached: true,
      });
    } catch (e) {
      resolve({ ok: false, message: `${hook.path}: ${(e as Error).message}` });
      return;
    }
    const killGroup = () => {
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch {
        // already gone
      }
    };
    const onStop = () => {
      ended ??= "stopped";
      killGroup();
    };
    const timer = setTimeout(() => {
      ended ??= "timeout";
      killGroup();
    }, hook.timeoutMs);
    stop?.addEventListener("abort", onStop, { once: true });
    const settle = (r: HookResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      stop?.removeEventListener("abort", onStop);
      child.stderr?.destroy();
      resolve(r);
    };
    child.stderr!.on("data", (b: Buffer) => {
      // Only the end is kept: it says why.
      stderr = (stderr + b.toString()).slice(-2000);
    });
    child.once("error", (e) => settle({ ok: false, message: `${hook.path}: ${e.message}` }));
    const finish = (code: number | null, signal: NodeJS.Signals | null) => {
      if (ended === "timeout") {
        settle({ ok: false, message: `${hook.path} timed out after ${hook.timeoutMs / 1000} s` });
      } else if (ended === "stopped") {
        settle({ ok: false, message: `${hook.path} was stopped: the pilot is stopping` });
      } else if (code === 0) settle({ ok: true });
      else {
        const last = stderr.trim().split("\n").at(-1) ?? "";
        const how = signal ? `was killed by ${signal}` : `exited with ${code}`;
        settle({ ok: false, message: `${hook.path} ${how}${last ? `: ${last}` : ""}` });
      }
    };
    child.once("exit", (code, signal) => {
      killGroup();
      // Let the last of stderr arrive, but never wait on a pipe someone else keeps open.
      setTimeout(() => finish(code, signal), 100).unref();
    });
    child.once("close", (code, signal) => finish(code, signal));
  });
}

/**
 * Starts a job through the hooks: pre-job script, the job under the wrapper, post-job script.
 * Without hooks it is `startJob` itself.
 */
export function startHookedJob(
  given: JobSpec,
  opts: RunnerOptions,
  hooks: JobHooks,
  log?: (msg: string) => void,
): RunningJob {
  // The pre- and post-job scripts see the job's environment, the VO's variables included.
  const spec = withVoEnv(given, opts.voEnv);
  const pres = [hooks.preJob, hooks.voPreJob].filter((h): h is JobHook => h !== undefined);
  const posts = [hooks.voPostJob, hooks.postJob].filter((h): h is JobHook => h !== undefined);
  const wrappers = (
    [
      [hooks.wrapper, WRAPPER_IN_SANDBOX, "job wrapper", undefined],
      [hooks.voWrapper, VO_WRAPPER_IN_SANDBOX, "VO job wrapper", hooks.voWrapperSha256],
    ] as const
  ).filter(([path]) => path !== undefined);
  if (wrappers.length === 0 && pres.length === 0 && posts.length === 0) {
    return startJob(spec, opts);
  }
  const base = opts.baseEnv ?? process.env;
  let inner: RunningJob | undefined;
  let innerDone = false;
  let killedBefore: { kind: KillKind; holdReason?: string } | undefined;
  let announce!: (pid: number | undefined) => void;
  const started = new Promise<number | undefined>((r) => (announce = r));
  // Kills a running pre- or post-job script: a stopping pilot does not wait out their limits.
  const stopHooks = new AbortController();
  const done = (async (): Promise<JobOutcome> => {
    for (const hook of pres) {
      mkdirSync(join(spec.sandboxDir, "tmp"), { recursive: true });
      const pre = await runHook(hook, spec, base, stopHooks.signal);
      if (killedBefore) return handBack(spec.jobId, "stopped before it started", killedBefore);
      if (!pre.ok) return handBack(spec.jobId, `pre-job script failed: ${pre.message}`);
    }
    if (killedBefore) return handBack(spec.jobId, "stopped before it started", killedBefore);
    const inSandbox: string[] = [];
    for (const [path, rel, role, sha256] of wrappers) {
      const copy = join(spec.sandboxDir, rel);
      try {
        mkdirSync(join(spec.sandboxDir, "tmp"), { recursive: true });
        copyFileSync(path!, copy);
        chmodSync(copy, 0o700);
      } catch (e) {
        return handBack(spec.jobId, `${role} ${path}: ${(e as Error).message}`);
      }
      // The copy is what runs: it must be the bundle's bytes.
      const bad = sha256 === undefined ? undefined : hashMismatch(copy, sha256);
      if (bad)
        return handBack(spec.jobId, `${role} not run: ${path} differs from its bundle: ${bad}`);
      inSandbox.push(copy);
    }
    inner = startJob(spec, { ...opts, ...(inSandbox.length > 0 ? { wrappers: inSandbox } : {}) });
    void inner.started?.then(announce);
    const outcome = await inner.done;
    innerDone = true;
    for (const hook of posts) {
      const post = await runHook(hook, spec, base, stopHooks.signal);
      if (!post.ok) log?.(`post-job script failed: ${post.message}`);
    }
    return outcome;
  })();
  // A job that never started has no group to list.
  void done.then(() => announce(undefined));
  return {
    jobId: spec.jobId,
    get pid() {
      return inner?.pid;
    },
    started,
    kill(kind, holdReason) {
      if (inner && !innerDone) inner.kill(kind, holdReason);
      else if (!inner) killedBefore ??= { kind, ...(holdReason ? { holdReason } : {}) };
      // A hook running now is stopped; a pilot stopping also skips the post-job script.
      if (!inner || innerDone || kind === "pilot-stop") stopHooks.abort();
    },
    done,
  };
}

/** The job never ran, for a reason of the node's: it goes back to the queue with this reason. */
function handBack(
  jobId: string,
  reason: string,
  killed: { kind: KillKind; holdReason?: string } = { kind: "pilot-stop" },
): JobOutcome {
  return {
    jobId,
    exitCode: null,
    signal: null,
    wallS: 0,
    userS: 0,
    sysS: 0,
    peakRssMb: 0,
    killed,
    ...(killed.kind === "pilot-stop" ? { nodeFault: reason } : {}),
  };
}
