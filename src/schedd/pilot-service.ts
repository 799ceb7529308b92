/**
 * RPC handlers for pilots (role `pilot`): ClaimJob, Heartbeat, CompleteJob, ReleaseLease and the sandbox
 * transfers tied to a lease, plus the users' side of sandboxes (PutInput, FetchOutput).
 */
import { rmSync } from "node:fs";
import { join } from "node:path";
import { JOB } from "../ads/names.js";
import { ClassAd } from "../classad/index.js";
import { hasErrorCode } from "../common/errors.js";
import type { CallContext, RpcServer } from "../wire/index.js";
import {
  InvalidArgumentError,
  NotFoundError,
  PermissionDeniedError,
  ResourceExhaustedError,
  toWireError,
} from "../wire/index.js";
import { proxyFileName } from "./input-files.js";
import type { JobRecord } from "./queue-index.js";
import { MAX_PROXY_BYTES, jobProxyAttrs, readProxyFile } from "./job-proxy.js";
import { JobStatus, getAttr, jobId, parseJobId, type JobAttrs } from "./job-status.js";
import {
  SCHEDD_METHODS as M,
  type ActionOutcome,
  type CompletionAnswer,
  type FileChunk,
  type JobCompletion,
  type JobOffer,
} from "./messages.js";
import { SandboxError, type Chunk } from "./sandbox.js";
import {
  callerOf,
  COMPUTE_SCOPE,
  leaseError,
  requireScope,
  type ServiceDeps,
} from "./service-context.js";
import { codecs } from "./service.js";
import { bindSlot } from "./slot-binding.js";
import { slotLeftAfter } from "./slot-left.js";

const PILOTS = ["pilot"];

export function registerPilotMethods(server: RpcServer, deps: ServiceDeps): void {
  const { queue } = deps;
  const unboundClaim = createUnboundNote();

  server.unary(M.claimJob.name, { roles: PILOTS, ...codecs(M.claimJob) }, async (req, ctx) => {
    if (!req.slot) throw new InvalidArgumentError("no slot ad");
    let slotAttrs = req.slot.attrs;
    if (ctx.pilotBinding !== undefined) {
      const bound = bindSlot(slotAttrs, ctx.pilotBinding, queue.opts);
      if (!bound.ok) {
        ctx.log.info(
          { identity: ctx.identity, pilot: ctx.pilotBinding.pilotId, reason: bound.reason },
          "claim refused",
        );
        throw new PermissionDeniedError(bound.reason);
      }
      slotAttrs = bound.attrs;
    } else if (deps.requirePilotBinding === true) {
      const reason = `this schedd takes claims only from pilot credentials with a binding (per-pilot tokens); ${ctx.identity} has none`;
      ctx.log.info({ identity: ctx.identity, reason }, "claim refused");
      throw new PermissionDeniedError(reason);
    } else {
      unboundClaim(ctx);
    }
    // Carried completions first: the slot they free is the one being offered.
    const completions = (req.completions ?? []).map((c) => carriedCompletion(deps, c, ctx));
    const maxJobs = Math.min(MAX_JOBS_PER_CLAIM, Math.max(1, req.maxJobs ?? 0));
    const until = Math.min(Date.now() + req.waitSeconds * 1000, ctx.deadline - 50);
    for (;;) {
      const offers = claimSeveral(deps, slotAttrs, maxJobs, req.slotNumber ?? 0, ctx);
      if (offers.length > 0 || Date.now() >= until || ctx.aborted) {
        // Logged with the change, so that the commit writes the lines (see ScheddStore's
        // onCommit) before the pilot hears of the jobs.
        for (const o of offers) {
          ctx.log.info(
            { job: o.jobId, identity: ctx.identity, pilot: ctx.pilotBinding?.pilotId },
            "claimed",
          );
        }
        // The leases and the completions are on disk before the pilot hears of them.
        await queue.store.committed();
        if (offers.length > 0 && ctx.aborted) {
          // The pilot gave up on the claim (it cancelled its wait, or the deadline passed) while
          // the leases were being written: no pilot will run the jobs, so they are Idle again
          // now rather than when the leases lapse.
          for (const o of offers) queue.releaseLease(o.leaseId, ctx.identity, CLAIM_CANCELLED);
          await queue.store.committed();
          for (const o of offers) {
            ctx.log.info(
              { job: o.jobId, identity: ctx.identity },
              "claim cancelled; lease released",
            );
          }
          return { matched: false, jobId: "", leaseId: "", leaseExpiresMs: 0 };
        }
        const nowMs = deps.clock.now();
        const [first, ...more] = offers.map((o) => ({ ...o, nowMs }));
        return {
          ...(first ?? { matched: false, jobId: "", leaseId: "", leaseExpiresMs: 0 }),
          ...(more.length > 0 ? { moreJobs: more } : {}),
          ...(completions.length > 0 ? { completions } : {}),
        };
      }
      await waitForIdle(deps, until - Date.now(), ctx.signal);
    }
  });

  server.unary(M.heartbeat.name, { roles: PILOTS, ...codecs(M.heartbeat) }, async (req, ctx) => {
    const r = queue.heartbeat(req.leaseId, ctx.identity);
    if (!r.ok) throw refusedLease(ctx, "heartbeat refused", req.leaseId, r);
    await queue.store.committed();
    const nowMs = deps.clock.now();
    return r.action === "continue"
      ? {
          action: "continue",
          leaseExpiresMs: r.leaseExpires,
          reason: "",
          nowMs,
          proxyExpiration: r.proxyExpiration,
        }
      : { action: "kill", leaseExpiresMs: 0, reason: r.reason, nowMs };
  });

  server.unary(
    M.releaseLease.name,
    { roles: PILOTS, ...codecs(M.releaseLease) },
    async (req, ctx) => {
      const r = queue.releaseLease(req.leaseId, ctx.identity, req.reason, req.inputTransferFailed);
      if (!r.ok) throw refusedLease(ctx, "lease release refused", req.leaseId, r);
      ctx.log.info(
        { lease: req.leaseId, identity: ctx.identity, reason: req.reason },
        "lease released",
      );
      await queue.store.committed(); // Idle on disk before the pilot forgets the job
      return { jobStatus: r.jobStatus };
    },
  );

  server.unary(
    M.completeJob.name,
    { roles: PILOTS, ...codecs(M.completeJob) },
    async (req, ctx) => {
      const receipt = completeLease(deps, req, ctx);
      await queue.store.committed();
      return receipt;
    },
  );

  server.stream(
    M.fetchInput.name,
    { roles: PILOTS, ...codecs(M.fetchInput) },
    async (req, sink, ctx) => {
      const lease = activeLease(deps, req.leaseId, ctx);
      const dirs = [
        deps.sandboxes.dir(lease.cluster, undefined, "input"),
        deps.sandboxes.dir(lease.cluster, lease.proc, "input"),
      ];
      for (const c of deps.sandboxes.chunks(dirs)) {
        if (ctx.signal.aborted) return;
        await sink.write(toWire(c));
      }
    },
  );

  server.unary(M.putOutput.name, { roles: PILOTS, ...codecs(M.putOutput) }, (req, ctx) => {
    const lease = activeLease(deps, req.leaseId, ctx);
    // A job's output is kept even over its owner's quota (refusing it would lose the result);
    // it counts towards the quota for the owner's next uploads.
    const owner = queue.index.jobs.get(jobId(lease.cluster, lease.proc))?.owner;
    receive(deps, deps.sandboxes.dir(lease.cluster, lease.proc, "output"), req, (n) => {
      if (owner !== undefined) deps.spoolQuota.add(owner, n);
    });
    return {};
  });

  server.unary(M.putInput.name, { roles: ["user", "admin"], ...codecs(M.putInput) }, (req, ctx) => {
    requireScope(ctx, COMPUTE_SCOPE.create);
    const caller = callerOf(deps, ctx);
    const id = parseJobId(req.jobId);
    if (!id) throw new InvalidArgumentError(`'${req.jobId}' is not a job id`);
    const recs = [...queue.index.jobs.values()].filter(
      (r) => r.cluster === id.cluster && (id.proc === undefined || r.proc === id.proc),
    );
    // Jobs of a late-materializing cluster not yet in the queue take their inputs at submit too.
    const waiting =
      id.proc === undefined
        ? queue.hasUnmaterialized(id.cluster)
        : queue.isUnmaterialized(id.cluster, id.proc);
    const owner = recs[0]?.owner ?? (waiting ? queue.store.cluster(id.cluster)?.owner : undefined);
    if (owner === undefined) throw new NotFoundError(`no job ${req.jobId} in the queue`);
    if (!caller.admin && (owner !== caller.user || recs.some((r) => r.owner !== caller.user))) {
      throw new PermissionDeniedError(`job ${req.jobId} is not yours`);
    }
    if (recs.some((r) => r.status === JobStatus.Running)) {
      throw new InvalidArgumentError(`job ${req.jobId} is already running`);
    }
    const dir = deps.sandboxes.dir(id.cluster, id.proc, "input");
    const admit = (n: number): void => {
      const q = deps.spoolQuota.charge(owner, n);
      if (!q.ok) throw quotaRefusal(owner, q.usedBytes, q.quotaBytes);
    };
    if (receive(deps, dir, req, admit)) recordJobProxy(deps, recs, id, dir, req.name, ctx);
    return {};
  });

  server.unary(M.fetchProxy.name, { roles: PILOTS, ...codecs(M.fetchProxy) }, (req, ctx) => {
    const lease = activeLease(deps, req.leaseId, ctx);
    const rec = queue.index.jobs.get(jobId(lease.cluster, lease.proc));
    const attrs = queue.store.getJob(lease.cluster, lease.proc)?.attrs;
    const found = rec && attrs && spooledProxy(deps, rec, ClassAd.fromJSON(attrs));
    if (!found) throw new NotFoundError(`job ${lease.cluster}.${lease.proc} has no proxy`);
    return { proxy: found.pem, expiration: Number(getAttr(attrs, JOB.X509UserProxyExpiration)) };
  });

  server.unary(
    M.refreshProxy.name,
    { roles: ["user", "admin"], ...codecs(M.refreshProxy) },
    (req, ctx) => {
      requireScope(ctx, COMPUTE_SCOPE.modify);
      const caller = callerOf(deps, ctx);
      const id = parseJobId(req.jobId);
      if (!id) throw new InvalidArgumentError(`'${req.jobId}' is not a job id`);
      const recs = [...queue.index.jobs.values()].filter(
        (r) => r.cluster === id.cluster && (id.proc === undefined || r.proc === id.proc),
      );
      if (recs.length === 0) throw new NotFoundError(`no job ${req.jobId} in the queue`);
      if (!caller.admin && recs.some((r) => r.owner !== caller.user)) {
        throw new PermissionDeniedError(`job ${req.jobId} is not yours`);
      }
      const outcome = refreshProxy(deps, recs, id.proc, Buffer.from(req.proxy));
      ctx.log.info(
        { identity: ctx.identity, job: req.jobId, refreshed: outcome.done.length },
        "job proxy refreshed",
      );
      return outcome;
    },
  );

  server.stream(
    M.fetchOutput.name,
    { roles: ["user", "admin"], ...codecs(M.fetchOutput) },
    async (req, sink, ctx) => {
      requireScope(ctx, COMPUTE_SCOPE.read);
      const caller = callerOf(deps, ctx);
      const id = parseJobId(req.jobId);
      if (!id || id.proc === undefined) {
        throw new InvalidArgumentError(`'${req.jobId}' is not a job id (CLUSTER.PROC)`);
      }
      const owner =
        queue.store.getJob(id.cluster, id.proc)?.owner ?? historyOwner(deps, id.cluster, id.proc);
      if (owner === undefined) throw new NotFoundError(`no job ${req.jobId}`);
      if (!caller.admin && owner !== caller.user) {
        throw new PermissionDeniedError(`job ${req.jobId} is not yours`);
      }
      for (const c of deps.sandboxes.chunks([deps.sandboxes.dir(id.cluster, id.proc, "output")])) {
        if (ctx.signal.aborted) return;
        await sink.write(toWire(c));
      }
    },
  );
}

/** Jobs one ClaimJob hands out at most, whatever the pilot asks. */
export const MAX_JOBS_PER_CLAIM = 64;

/**
 * Up to `max` jobs for one slot, each matched against what the slot has left after the jobs
 * before it. A bad slot ad is the caller's error.
 */
function claimSeveral(
  deps: ServiceDeps,
  slotAttrs: JobAttrs,
  max: number,
  slotNumber: number,
  ctx: CallContext,
): JobOffer[] {
  const offers: JobOffer[] = [];
  let slot: JobAttrs | undefined = slotAttrs;
  while (slot !== undefined && offers.length < max) {
    let r;
    try {
      // The pilot numbers its jobs' dynamic slots in the order it gets them.
      r = deps.queue.claim(slot, ctx.identity, slotNumber > 0 ? slotNumber + offers.length : 0);
    } catch (err) {
      if (err instanceof SyntaxError || hasErrorCode(err, "classad-syntax")) {
        throw new InvalidArgumentError(`bad slot ad: ${(err as Error).message}`);
      }
      throw err;
    }
    if (!r.matched) break;
    offers.push({
      matched: true,
      jobId: r.jobId,
      job: { attrs: r.attrs },
      leaseId: r.leaseId,
      leaseExpiresMs: r.leaseExpires,
    });
    if (offers.length < max) slot = slotLeftAfter(slot, r.attrs);
  }
  return offers;
}

/** CompleteJob's work, without waiting for the commit; throws what CompleteJob answers. */
function completeLease(deps: ServiceDeps, req: JobCompletion, ctx: CallContext) {
  const r = deps.queue.complete(
    req.leaseId,
    ctx.identity,
    {
      exitBySignal: req.exitBySignal,
      exitCode: req.exitCode,
      exitSignal: req.exitSignal,
      cpuUser: req.cpuUserSeconds,
      cpuSys: req.cpuSysSeconds,
      hold: req.holdReason
        ? { reason: req.holdReason, code: req.holdCode, subcode: req.holdSubcode }
        : undefined,
    },
    (req.outputs ?? []).map((o) => o.name),
  );
  if (!r.ok) throw refusedLease(ctx, "completion refused", req.leaseId, r);
  ctx.log.info(
    { lease: req.leaseId, identity: ctx.identity, exitCode: req.exitCode, status: r.jobStatus },
    "job completed",
  );
  return { jobStatus: r.jobStatus };
}

/** A completion sent with a claim: answered on its own, so one refused does not stop the claim. */
function carriedCompletion(
  deps: ServiceDeps,
  req: JobCompletion,
  ctx: CallContext,
): CompletionAnswer {
  try {
    return completeLease(deps, req, ctx);
  } catch (err) {
    const e = toWireError(err);
    return { jobStatus: 0, error: { code: e.code, message: e.message, details: e.details } };
  }
}

/**
 * Audit of a refused lease call: which lease, who asked, which pilot their credential names and
 * why (a stolen lease id used by another pilot shows up here as `wrong-pilot`).
 */
function refusedLease(
  ctx: CallContext,
  what: string,
  leaseId: string,
  r: Parameters<typeof leaseError>[0],
): ReturnType<typeof leaseError> {
  ctx.log.info(
    { lease: leaseId, identity: ctx.identity, pilot: ctx.pilotBinding?.pilotId, reason: r.reason },
    what,
  );
  return leaseError(r);
}

function historyOwner(deps: ServiceDeps, cluster: number, proc: number): string | undefined {
  const row = deps.queue.store.db
    .prepare("SELECT owner FROM history WHERE cluster = ? AND proc = ?")
    .get(cluster, proc) as { owner: string } | undefined;
  return row?.owner;
}

function activeLease(deps: ServiceDeps, leaseId: string, ctx: CallContext) {
  const lease = deps.queue.lease(leaseId);
  if (!lease || lease.state !== "active") {
    throw new NotFoundError(`no active lease ${leaseId}`, {
      reason: lease ? "stale-lease" : "unknown-lease",
    });
  }
  if (lease.identity !== ctx.identity) {
    throw new PermissionDeniedError(`lease ${leaseId} was issued to another pilot`, {
      reason: "wrong-pilot",
    });
  }
  return lease;
}

/**
 * When the file just received is the jobs' proxy (`x509userproxy`), its chain is checked and its
 * subject and expiry recorded in each job; a proxy that does not verify is deleted and refused.
 */
function recordJobProxy(
  deps: ServiceDeps,
  recs: readonly JobRecord[],
  id: { cluster: number; proc?: number },
  dir: string,
  name: string,
  ctx: CallContext,
): void {
  const named = (attrs: JobAttrs): boolean => proxyFileName(ClassAd.fromJSON(attrs)) === name;
  const owners = recs.filter((r) => {
    const attrs = deps.queue.store.getJob(r.cluster, r.proc)?.attrs;
    return attrs !== undefined && named(attrs);
  });
  if (owners.length === 0 && !deps.queue.someUnmaterialized(id.cluster, id.proc, named)) return;
  const path = join(dir, name);
  const pem = readProxyFile(path);
  const r =
    pem === undefined
      ? ({ ok: false, reason: `larger than ${MAX_PROXY_BYTES} bytes` } as const)
      : jobProxyAttrs(pem, deps.checkJobProxy);
  if (!r.ok) {
    rmSync(path, { force: true });
    ctx.log.info({ identity: ctx.identity, file: name, reason: r.reason }, "job proxy refused");
    throw new InvalidArgumentError(`the job's proxy ${name} is refused: ${r.reason}`, {
      reason: "job-proxy",
    });
  }
  for (const rec of owners) deps.queue.setScheddAttrs(rec, r.attrs);
  deps.queue.setUnmaterializedAttrs(id.cluster, id.proc, named, r.attrs);
}

/**
 * A job's spooled proxy: its own copy (one refreshed for that job alone) before its cluster's.
 * Undefined when the job brought none or its file is gone.
 */
function spooledProxy(
  deps: ServiceDeps,
  rec: JobRecord,
  ad: ClassAd,
): { pem: Buffer; name: string } | undefined {
  const name = proxyFileName(ad);
  if (name === undefined) return undefined;
  for (const proc of [rec.proc, undefined]) {
    const text = readProxyFile(join(deps.sandboxes.dir(rec.cluster, proc, "input"), name));
    if (text !== undefined) return { pem: Buffer.from(text, "latin1"), name };
  }
  return undefined;
}

/**
 * A user's renewed proxy for jobs that brought one, as HTCondor's schedd takes a refreshed proxy
 * (the Python bindings' refreshGSIProxy): it must verify, be valid now and stand for the same
 * subject as the proxy it replaces. It is spooled for the cluster when a cluster was named (each
 * job's own earlier copy goes), for that job alone when a job was; the jobs' proxy attributes
 * follow, and a running job's pilot fetches it at its next heartbeat.
 */
function refreshProxy(
  deps: ServiceDeps,
  recs: readonly JobRecord[],
  proc: number | undefined,
  pem: Buffer,
): ActionOutcome {
  const out: ActionOutcome = { done: [], refused: [] };
  if (pem.length > MAX_PROXY_BYTES) {
    throw new InvalidArgumentError(`the proxy is larger than ${MAX_PROXY_BYTES} bytes`);
  }
  const r = jobProxyAttrs(pem.toString("latin1"), deps.checkJobProxy);
  if (!r.ok) {
    // The chain is checked at the schedd's time, so an expired proxy is refused here.
    const next =
      r.code === "expired"
        ? "; renew it with 'updraft proxy init' (or voms-proxy-init) and send it again"
        : "";
    throw new InvalidArgumentError(`the proxy is refused: ${r.reason}${next}`);
  }
  const subject = r.attrs.find(([n]) => n === JOB.X509UserProxySubject)![1];
  let name: string | undefined;
  const jobs: JobRecord[] = [];
  for (const rec of recs) {
    const id = jobId(rec.cluster, rec.proc);
    const attrs = deps.queue.store.getJob(rec.cluster, rec.proc)?.attrs ?? {};
    const own = proxyFileName(ClassAd.fromJSON(attrs));
    const was = getAttr(attrs, JOB.X509UserProxySubject);
    if (own === undefined || getAttr(attrs, JOB.X509UserProxyExpiration) === undefined) {
      out.refused.push({ id, reason: "the job brought no proxy (x509userproxy)" });
    } else if (name !== undefined && own !== name) {
      out.refused.push({ id, reason: `its proxy is ${own}, not ${name}: refresh it alone` });
    } else if (was !== subject) {
      out.refused.push({
        id,
        reason: `the proxy stands for ${subject}, the job's for ${was}: it cannot replace it`,
      });
    } else {
      name = own;
      jobs.push(rec);
    }
  }
  if (name === undefined) return out;
  const cluster = recs[0]!.cluster;
  deps.sandboxes.replace(deps.sandboxes.dir(cluster, proc, "input"), name, pem);
  if (proc === undefined) {
    const same = (attrs: JobAttrs): boolean =>
      proxyFileName(ClassAd.fromJSON(attrs)) === name &&
      getAttr(attrs, JOB.X509UserProxySubject) === subject;
    deps.queue.setUnmaterializedAttrs(cluster, undefined, same, r.attrs);
  }
  for (const rec of jobs) {
    if (proc === undefined) {
      rmSync(join(deps.sandboxes.dir(cluster, rec.proc, "input"), name), { force: true });
    }
    deps.queue.setScheddAttrs(rec, r.attrs);
    out.done.push(jobId(rec.cluster, rec.proc));
  }
  return out;
}

/** What an owner over `sandbox.quota_mb` is told, with what frees space. */
function quotaRefusal(owner: string, usedBytes: number, quotaBytes: number): Error {
  const mb = (b: number): string => (b / 1024 / 1024).toFixed(1);
  return new ResourceExhaustedError(
    `spool quota of ${mb(quotaBytes)} MB for user ${owner} reached: ` +
      `${mb(usedBytes)} MB held by ${owner}'s queued jobs. ` +
      "Remove jobs you no longer need (updraft rm) and submit again, " +
      "or ask the schedd's administrator to raise sandbox.quota_mb",
    { reason: "spool-quota" },
  );
}

function receive(
  deps: ServiceDeps,
  dir: string,
  c: FileChunk,
  admit?: (bytes: number) => void,
): boolean {
  try {
    return deps.sandboxes.receive(dir, c, admit);
  } catch (err) {
    if (err instanceof SandboxError) {
      if (err.code === "sandbox-full") throw new ResourceExhaustedError(err.message);
      throw new InvalidArgumentError(err.message);
    }
    throw err;
  }
}

function toWire(c: Chunk): FileChunk {
  return { ...c, leaseId: "", jobId: "" };
}

/** Resolves when idle jobs may have appeared, after `ms`, or on abort. */
/** The reason a lease whose claim the pilot cancelled goes back with. */
export const CLAIM_CANCELLED = "the pilot cancelled the claim before it was answered";

function waitForIdle(deps: ServiceDeps, ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      off();
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, Math.max(0, ms));
    const off = deps.queue.onIdleAdded(done);
    signal.addEventListener("abort", done);
  });
}

// Credentials from before bindings (plain pilot proxies) keep working: the slot ad is taken as
// sent. Noted once per identity so the log shows which pilots still run unbound.
function createUnboundNote(): (ctx: CallContext) => void {
  const seen = new Set<string>();
  return (ctx) => {
    if (seen.has(ctx.identity) || seen.size >= 10_000) return;
    seen.add(ctx.identity);
    ctx.log.info(
      { identity: ctx.identity },
      "pilot credential carries no binding; trusting its slot ad's site, entry and group",
    );
  };
}
