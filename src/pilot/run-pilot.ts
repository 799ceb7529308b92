/**
 * The pilot's main loop: claim jobs while the lifetime allows and resources remain, run them,
 * heartbeat their leases, report outcomes, and stop everything gracefully before the deadline.
 * Decisions come from the pure lifetime clock and ledger; IO is behind JobSource and
 * SlotAdvertiser, so the loop itself is a thin shell.
 */
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import type { Clock } from "../common/clock.js";
import type { Logger } from "../common/logger.js";
import type { Attrs } from "./failure.js";
import { DEFAULT_HEARTBEAT, heartbeatDelay, type HeartbeatPolicy } from "./heartbeat-schedule.js";
import type { JobLease, JobSource, SlotAdvertiser } from "./interfaces.js";
import { createResourceLedger, type Resources } from "./ledger.js";
import type { LifetimePlan } from "./lifetime.js";
import type { JobRecord } from "./report.js";
import { jobSpecFromAd, requestOf } from "./runner/job-spec.js";
import type { JobOutcome, RunnerOptions, RunningJob } from "./runner/run-job.js";
import type { JobSpec } from "./runner/job-spec.js";
import { buildSlotAd, slotName, type SlotIdentity } from "./slot-ad.js";
import { createWakeup } from "./wakeup.js";
import { FEATURES_POLL_MS } from "./machine-features.js";
import { type PilotExitReason, planTurn, waitMs } from "./pilot-step.js";
import { type JobHooks, startHookedJob } from "./runner/job-hooks.js";
import { type BlackHolePolicy, createBlackHoleDetector } from "./black-hole.js";

export interface PilotDeps {
  clock: Clock;
  plan: LifetimePlan;
  identity: SlotIdentity;
  resources: Resources;
  nodeAttrs: Attrs;
  published: Attrs;
  start?: string;
  workDir: string;
  sources: JobSource[];
  advertiser: SlotAdvertiser;
  /** Aborted on SIGTERM: same as reaching the hard deadline. */
  terminate?: AbortSignal;
  /**
   * Waits `ms` of the clock's time, or until `signal` aborts (the wait ended early); tests with a
   * ManualClock advance it here.
   */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  runJob?: (spec: JobSpec, opts: RunnerOptions) => RunningJob;
  runnerOptions?: RunnerOptions;
  /** Heartbeat delay for leases whose schedd did not say how long they last. */
  heartbeatEveryMs?: number;
  /** Heartbeats follow the lease: a fraction of its remaining time, within floor and ceiling. */
  heartbeat?: Partial<Omit<HeartbeatPolicy, "fallbackMs">>;
  advertiseEveryMs?: number;
  /** Pause between claim rounds that found nothing. */
  claimRetryMs?: number;
  keepSandboxes?: boolean;
  /**
   * A file kept listing the process groups of running jobs (one per line), so that whatever
   * started the pilot can end its jobs too if the pilot dies (the local grid adapter does).
   */
  jobGroupsFile?: string;
  /**
   * The earliest shutdown the site announced through Machine/Job Features (ms), read now and
   * then; the pilot drains before it.
   */
  shutdownTime?: () => number | undefined;
  /** Stop taking jobs when they keep ending within seconds (see black-hole.ts); off when absent. */
  blackHole?: BlackHolePolicy;
  /** The site's or VO's job wrapper and pre/post-job scripts (see runner/job-hooks.ts). */
  jobHooks?: JobHooks;
  log?: Logger;
}

export interface PilotRunResult {
  reason: PilotExitReason;
  /** Why the node was judged a black hole, when it was. */
  blackHole?: string;
  /** Why a job hook failed, when one did: the job went back to the queue and the pilot ended. */
  hookFault?: string;
  jobs: JobRecord[];
  idleS: number;
}

interface Active {
  lease: JobLease;
  source: JobSource;
  job: RunningJob;
  dir: string;
  startedAt: number;
  /** When the lease runs out on the pilot's clock, as far as the schedd last said. */
  leaseEndsAt: number | undefined;
  nextHeartbeatAt: number;
  stopping: boolean;
  /** Why the pilot stopped the job: the schedd records it as the job's VacateReason. */
  stopReason?: string;
  /** The schedd gave the job to someone else: nothing to report back for it. */
  leaseLost?: boolean;
  /** The job never started for a reason of the pilot's, not the job's: give it back. */
  handBack?: boolean;
  /** Handed back because its input files did not arrive. */
  inputTransferFailed?: boolean;
}

export async function runPilot(deps: PilotDeps): Promise<PilotRunResult> {
  const { clock } = deps;
  // Changes only when the site announces a shutdown (see machine-features.ts).
  let plan = deps.plan;
  const graceMs = plan.dieAtMs - plan.stopJobsAtMs;
  let nextFeaturesCheck = clock.now();
  const sleep =
    deps.sleep ??
    ((ms: number, signal?: AbortSignal) =>
      new Promise<void>((resolve) => {
        const t = setTimeout(resolve, ms);
        signal?.addEventListener("abort", () => {
          clearTimeout(t);
          resolve();
        });
      }));
  const runJob =
    deps.runJob ??
    ((spec: JobSpec, opts: RunnerOptions) =>
      startHookedJob(spec, opts, deps.jobHooks ?? {}, (msg) => deps.log?.warn(msg)));
  const hb: HeartbeatPolicy = {
    ...DEFAULT_HEARTBEAT,
    ...deps.heartbeat,
    fallbackMs: deps.heartbeatEveryMs ?? DEFAULT_HEARTBEAT.fallbackMs,
  };
  const adEvery = deps.advertiseEveryMs ?? 60_000;
  const retryMs = deps.claimRetryMs ?? 10_000;
  const ledger = createResourceLedger(deps.resources);
  const active = new Map<string, Active>();
  const records: JobRecord[] = [];
  const pendingReports: (() => Promise<void>)[] = [];
  const removals = new Set<Promise<void>>();
  const wake = createWakeup(sleep);
  deps.terminate?.addEventListener("abort", () => wake.now());
  let lastJobEndMs: number | undefined;
  let idleMs = 0;
  let idleSince: number | undefined = clock.now();
  let lastAdvertised = -Infinity;
  let nextSource = 0;
  let seq = 0;
  let retired = false;
  let adStale = false;
  const blackHole = createBlackHoleDetector(deps.blackHole ?? NO_BLACK_HOLE_CHECK);
  let hookFault: string | undefined;
  let holeAdvertised = false;

  const slotAd = () =>
    buildSlotAd({
      id: deps.identity,
      nodeAttrs: deps.nodeAttrs,
      published: deps.published,
      total: deps.resources,
      remaining: ledger.remaining(),
      start: deps.start,
      plan,
      retired: retired || blackHole.tripped !== undefined,
      blackHole:
        deps.blackHole && deps.blackHole.rate > 0 ? (blackHole.tripped ?? false) : undefined,
      runningJobs: active.size,
      nowMs: clock.now(),
    });

  async function advertise(force = false): Promise<void> {
    if (!force && clock.now() - lastAdvertised < adEvery) return;
    try {
      await deps.advertiser.advertise(slotAd());
      lastAdvertised = clock.now();
    } catch (err) {
      deps.log?.warn({ err }, "advertise failed; will retry");
    }
  }

  /** Rewrites the job groups file; a failure to write it only loses that safety net. */
  function recordJobGroups(): void {
    if (!deps.jobGroupsFile) return;
    const groups = [...active.values()].flatMap((a) => (a.job.pid ? [a.job.pid] : []));
    try {
      writeFileSync(`${deps.jobGroupsFile}.tmp`, groups.map((g) => `${g}\n`).join(""));
      renameSync(`${deps.jobGroupsFile}.tmp`, deps.jobGroupsFile);
    } catch (err) {
      deps.log?.warn({ err }, "cannot write the job groups file");
    }
  }

  function finished(a: Active, outcome: JobOutcome): void {
    active.delete(a.lease.jobId);
    recordJobGroups();
    ledger.release(a.lease.jobId);
    lastJobEndMs = clock.now();
    if (active.size === 0) idleSince = clock.now();
    // Ended by the pilot's own stop, even if it then exited cleanly, or never started for the
    // pilot's own reasons: the job goes back to the queue.
    const released = a.handBack === true || outcome.killed?.kind === "pilot-stop";
    if (outcome.nodeFault) {
      // The node's own hook failed: the job goes back, and this node takes no more.
      a.stopReason ??= outcome.nodeFault;
      if (!hookFault) deps.log?.warn({ reason: outcome.nodeFault }, "job hook failed: ending");
      hookFault ??= outcome.nodeFault;
    }
    if (!released && !blackHole.tripped) {
      blackHole.jobEnded(a.startedAt, clock.now());
      if (blackHole.tripped) {
        deps.log?.warn({ reason: blackHole.tripped }, "black hole: taking no more jobs");
      }
    }
    const disposition = released
      ? "released"
      : outcome.startError
        ? "start-failed"
        : outcome.killed
          ? "killed"
          : "completed";
    records.push({
      jobId: a.lease.jobId,
      schedd: a.source.name,
      startedAt: new Date(a.startedAt).toISOString(),
      disposition,
      exitCode: outcome.exitCode,
      signal: outcome.signal,
      wallS: outcome.wallS,
      userS: outcome.userS,
      sysS: outcome.sysS,
      peakRssMb: outcome.peakRssMb,
      ...(outcome.killed?.holdReason ? { holdReason: outcome.killed.holdReason } : {}),
    });
    // Reports wait in a queue and are retried, so a schedd restart does not lose an outcome.
    pendingReports.push(async () => {
      if (a.leaseLost) {
        // The lease is gone; reporting would be refused.
      } else if (disposition === "released") {
        await a.source.release(a.lease, a.stopReason ?? "pilot stopping", {
          inputTransferFailed: a.inputTransferFailed === true,
        });
      } else await a.source.complete(a.lease, outcome, a.dir);
      // Off the main thread: removing directories is slow on some filesystems and would stall
      // every other job's bookkeeping.
      if (!deps.keepSandboxes) {
        const removal = rm(a.dir, { recursive: true, force: true }).catch(() => {});
        removals.add(removal);
        void removal.then(() => removals.delete(removal));
      }
    });
    wake.now();
  }

  /**
   * One attempt at every queued report, all at once (each is a few round trips to its schedd);
   * failures stay queued, one schedd down blocks no other.
   */
  async function flushReports(): Promise<void> {
    await Promise.all(
      pendingReports.splice(0).map(async (report) => {
        try {
          await report();
        } catch (err) {
          deps.log?.warn({ err }, "reporting a job failed; will retry");
          pendingReports.push(report);
        }
      }),
    );
  }

  /** True when the job started (or failed to start); false when it did not fit. */
  async function startClaimed(lease: JobLease, source: JobSource): Promise<boolean> {
    const req = requestOf(lease.ad);
    if (!ledger.reserve(lease.jobId, req).ok) {
      await source.release(lease, "does not fit the slot's remaining resources").catch(() => {});
      return false;
    }
    if (idleSince !== undefined) idleMs += clock.now() - idleSince;
    idleSince = undefined;
    const dir = join(deps.workDir, "execute", `dir_${++seq}`);
    const now = clock.now();
    const a: Active = {
      lease,
      source,
      dir,
      startedAt: now,
      leaseEndsAt: lease.leaseMs === undefined ? undefined : now + lease.leaseMs,
      nextHeartbeatAt: now + heartbeatDelay(lease.leaseMs, hb),
      stopping: false,
      job: NOT_STARTED,
    };
    active.set(lease.jobId, a);
    try {
      // The loop stops jobs at stopJobsAtMs; the runner's backstop is the hard deadline itself.
      const remainingLifetimeS = Math.max(1, (plan.dieAtMs - clock.now()) / 1000);
      const spec = jobSpecFromAd(lease.jobId, lease.ad, dir, {
        remainingLifetimeS,
        credentialFile: lease.credentialFile,
      });
      if (!spec.ok) {
        finished(a, failedStart(lease.jobId, spec.message, spec.holdCode));
        return true;
      }
      try {
        mkdirSync(dir, { recursive: true });
        await source.stageIn(lease, dir);
      } catch (err) {
        // No sandbox or no inputs (the schedd restarting mid-transfer, a full disk): the job
        // never ran, so it must not complete as a failure; it goes back to the queue.
        a.handBack = true;
        a.inputTransferFailed = true;
        a.stopReason = `input transfer failed: ${(err as Error).message}`;
        throw err;
      }
      a.job = runJob(spec.spec, deps.runnerOptions ?? {});
    } catch (err) {
      finished(a, failedStart(lease.jobId, (err as Error).message));
      return true;
    }
    recordJobGroups();
    void a.job.done.then((o) => finished(a, o));
    return true;
  }

  /**
   * One pass over the sources, starting where the last pass stopped; true if a job started.
   * `waitS` > 0 long-polls (only used with a single source, so no schedd waits on another).
   */
  async function claimRound(waitS = 0): Promise<boolean> {
    for (let i = 0; i < deps.sources.length; i++) {
      const source = deps.sources[(nextSource + i) % deps.sources.length]!;
      let lease: JobLease | undefined;
      try {
        lease = await source.claim(
          slotAd(),
          waitS > 0 ? { waitS, signal: deps.terminate } : undefined,
        );
      } catch (err) {
        deps.log?.warn({ err, schedd: source.name }, "claim failed");
        continue;
      }
      if (!lease) continue;
      nextSource = (nextSource + i + 1) % deps.sources.length;
      return startClaimed(lease, source);
    }
    return false;
  }

  /** Time left on a job's lease by the pilot's clock, if the schedd said how long it lasts. */
  const leaseLeft = (a: Active) =>
    a.leaseEndsAt === undefined ? undefined : a.leaseEndsAt - clock.now();

  async function heartbeats(): Promise<void> {
    for (const a of [...active.values()]) {
      if (a.stopping || clock.now() < a.nextHeartbeatAt) continue;
      try {
        const v = await a.source.heartbeat(a.lease);
        const now = clock.now();
        if (v.action === "continue" && v.leaseMs !== undefined) a.leaseEndsAt = now + v.leaseMs;
        a.nextHeartbeatAt = now + heartbeatDelay(leaseLeft(a), hb);
        if (v.action === "remove") a.job.kill("removed", v.reason);
        else if (v.action === "hold") a.job.kill("held", v.reason);
        else if (v.action === "lost") {
          a.leaseLost = true;
          a.job.kill("removed", "lease lost");
        }
      } catch (err) {
        // The schedd may be restarting: the job keeps running; the next try comes sooner as
        // the lease nears its end (a fraction of what is left), down to the floor.
        a.nextHeartbeatAt = clock.now() + heartbeatDelay(leaseLeft(a), hb);
        deps.log?.warn({ err, jobId: a.lease.jobId }, "heartbeat failed");
      }
    }
  }

  await advertise(true);
  let reason: PilotRunResult["reason"];
  for (;;) {
    const now = clock.now();
    let shutdownMs: number | undefined;
    if (deps.shutdownTime && now >= nextFeaturesCheck) {
      nextFeaturesCheck = now + FEATURES_POLL_MS;
      shutdownMs = deps.shutdownTime();
    }
    const turn = planTurn({
      plan,
      nowMs: now,
      runningJobs: active.size,
      lastJobEndMs,
      terminated: deps.terminate?.aborted,
      shutdownMs,
      graceMs,
      blackHole: blackHole.tripped,
      hookFault,
      advertisedRetired: retired,
      advertisedBlackHole: holeAdvertised,
    });
    if (turn.drainingFor !== undefined) {
      deps.log?.warn(
        { shutdown: new Date(turn.drainingFor).toISOString() },
        "the site announced a shutdown (Machine/Job Features): draining",
      );
    }
    plan = turn.plan;
    const v = turn.verdict;
    retired = turn.advertisedRetired;
    holeAdvertised = turn.advertisedBlackHole;
    if (turn.advertiseNow) await advertise(true);
    if (turn.stopReason !== undefined) {
      for (const a of active.values()) {
        if (a.stopping) continue;
        a.stopping = true;
        a.stopReason = turn.stopReason;
        a.job.kill("pilot-stop");
      }
    }
    // Reports go out while the pilot claims its next jobs: a slot freed by a finished job is
    // offered again without waiting for that job's outputs to upload.
    const flushing = flushReports();
    if (v.exit && active.size === 0) {
      await flushing;
      reason = v.exit;
      break;
    }
    await heartbeats();
    let started = false;
    if (v.mayStartJobs) {
      while (ledger.remaining().cpus > 0 && (await claimRound())) started = true;
      // An idle pilot with one schedd waits at the schedd for work rather than asleep here:
      // a job submitted meanwhile starts at once, not at the next retry. Nothing else needs
      // the loop meanwhile (no job to heartbeat, no report to send), and the wait ends before
      // the lifetime plan's next change.
      if (!started) await flushing;
      const quiet = active.size === 0 && pendingReports.length === 0;
      if (!started && quiet && deps.sources.length === 1 && !deps.terminate?.aborted) {
        const waitS = Math.floor(Math.min(LONG_POLL_MS, v.nextChangeInMs || LONG_POLL_MS) / 1000);
        if (waitS >= 1 && (await claimRound(waitS))) started = true;
      }
      if (started) adStale = true;
    }
    // A slot's state changes with every job; the collector hears of it at most once a second.
    if (adStale && clock.now() - lastAdvertised >= AD_MIN_GAP_MS) {
      adStale = false;
      await advertise(true);
    } else await advertise();
    await flushing;
    if (started) continue;
    const sleepMs = waitMs({
      nextChangeInMs: v.nextChangeInMs,
      retryMs,
      advertiseEveryMs: adEvery,
      adDueInMs: adStale ? AD_MIN_GAP_MS - (clock.now() - lastAdvertised) : undefined,
      heartbeatsInMs: [...active.values()]
        .filter((a) => !a.stopping)
        .map((a) => a.nextHeartbeatAt - clock.now()),
      reportsPending: pendingReports.length > 0,
      featuresCheckInMs: deps.shutdownTime ? nextFeaturesCheck - clock.now() : undefined,
    });
    await wake.wait(sleepMs);
  }
  if (idleSince !== undefined) idleMs += clock.now() - idleSince;
  // A few more tries for outcomes a schedd has not taken yet, within the pilot's own deadline.
  for (let i = 0; i < FINAL_REPORT_TRIES && pendingReports.length > 0; i++) {
    if (i > 0 && clock.now() + retryMs >= plan.dieAtMs) break;
    if (i > 0) await sleep(retryMs);
    await flushReports();
  }
  await Promise.all(removals);
  try {
    await deps.advertiser.invalidate(slotName(deps.identity));
  } catch (err) {
    deps.log?.warn({ err }, "invalidate failed");
  }
  return {
    reason,
    ...(reason === "blackhole" ? { blackHole: blackHole.tripped } : {}),
    ...(reason === "job-hook" ? { hookFault } : {}),
    jobs: records,
    idleS: idleMs / 1000,
  };
}

const FINAL_REPORT_TRIES = 3;
const NO_BLACK_HOLE_CHECK: BlackHolePolicy = { numJobs: 0, rate: 0, windowMs: 0 };
/** Longest single wait at the schedd for a job. */
const LONG_POLL_MS = 10_000;
/** Shortest gap between slot ads sent because jobs started. */
const AD_MIN_GAP_MS = 1000;

const NOT_STARTED: RunningJob = {
  jobId: "",
  pid: undefined,
  kill: () => {},
  done: new Promise(() => {}),
};

function failedStart(jobId: string, message: string, holdCode?: number): JobOutcome {
  return {
    ...(holdCode === undefined ? {} : { startFailure: { code: holdCode, subcode: 0 } }),
    jobId,
    exitCode: null,
    signal: null,
    wallS: 0,
    userS: 0,
    sysS: 0,
    peakRssMb: 0,
    startError: message,
  };
}
