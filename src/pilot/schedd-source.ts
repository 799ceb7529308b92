/**
 * A `JobSource` over one schedd: claim with the slot ad, heartbeat the lease, fetch the input
 * sandbox (SHA-256 checked), upload the outputs the job names, then report the outcome.
 */
import { createHash } from "node:crypto";
import { closeSync, readSync } from "node:fs";
import { chmod, mkdir, open, rename } from "node:fs/promises";
import { constants } from "node:os";
import { basename, dirname, isAbsolute, join, normalize, sep } from "node:path";
import { JOB } from "../ads/names.js";
import { ClassAd } from "../classad/index.js";
import { UpdraftError } from "../common/errors.js";
import { NO_EXIT, type ScheddClient } from "../schedd/client.js";
import { inputFileNames, proxyFileName, tokenFileName } from "../schedd/input-files.js";
import type { JobOffer, OutputFile } from "../schedd/messages.js";
import { hasWireCode } from "../wire/errors.js";
import { createCompletionCarrier } from "./completion-carrier.js";
import type { JobLease, JobSource, LeaseVerdict } from "./interfaces.js";
import {
  TRANSFER_OUTPUT_HOLD,
  chooseOutputs,
  openOutput,
  snapshotSandbox,
  type OutputHold,
  type SandboxSnapshot,
} from "./outputs.js";
import type { JobOutcome } from "./runner/run-job.js";

/** Same chunk size the schedd sends with; keeps each frame well under the wire's limit. */
const CHUNK_BYTES = 256 * 1024;

/** A lease the schedd no longer knows (expired, requeued) or that is not ours any more. */
const isLostLease = (err: unknown) => hasWireCode(err, "not-found", "permission-denied");

/**
 * Time a lease has left, from the schedd's own clock when it says (a pilot's clock may be off
 * by minutes); from ours otherwise. Undefined when the schedd gave no expiry.
 */
export function leaseLeftMs(
  reply: { leaseExpiresMs: number; nowMs?: number },
  localNowMs: number,
): number | undefined {
  if (!reply.leaseExpiresMs) return undefined;
  return reply.leaseExpiresMs - (reply.nowMs || localNowMs);
}

/** A running job's proxy in its sandbox, and the expiry (Unix seconds) of that copy. */
type StagedProxy = { file: string; expiry: number };

/**
 * A job's input files as the schedd sent them cannot be taken: a name that leaves the sandbox, a
 * chunk out of order, a checksum that differs, or a file cut short. The job fails to start.
 */
export class InputTransferError extends UpdraftError {
  readonly code = "input-transfer";
  override name = "InputTransferError";
}

/** A relative path that stays inside the sandbox; the schedd checks this too. */
function safeName(name: string): string {
  const n = normalize(name);
  if (!n || isAbsolute(n) || n === ".." || n.startsWith(`..${sep}`)) {
    throw new InputTransferError(`unsafe sandbox file name '${name}'`);
  }
  return n;
}

export function scheddSource(
  name: string,
  c: ScheddClient,
  now: () => number = Date.now,
): JobSource {
  // Each job's sandbox as it stood after staging, so outputs can be told from inputs.
  const staged = new Map<string, SandboxSnapshot>();
  // Where each running job's proxy is and the expiry of the copy it has, by lease.
  const proxies = new Map<string, StagedProxy>();
  const carrier = createCompletionCarrier(c);
  return {
    name,
    async claim(slotAd, wait, slotNumber) {
      return (await claimMany(slotAd, 1, wait, slotNumber))[0];
    },

    claimMany,

    async heartbeat(lease): Promise<LeaseVerdict> {
      try {
        const r = await c.heartbeat(lease.leaseId);
        if (r.action === "continue") {
          await refreshedProxy(lease, r.proxyExpiration ?? 0);
          const leaseMs = leaseLeftMs(r, now());
          return leaseMs === undefined ? { action: "continue" } : { action: "continue", leaseMs };
        }
        // A lapsed lease means the job went back to the queue: running on would duplicate it.
        if (/lapsed/.test(r.reason)) return { action: "lost" };
        // Otherwise the schedd already held or removed the job (the reply does not say which);
        // the pilot only has to stop it, so both read as "remove" with the schedd's reason.
        return { action: "remove", reason: r.reason || "the schedd ended the lease" };
      } catch (err) {
        if (isLostLease(err)) return { action: "lost" };
        throw err;
      }
    },

    async stageIn(lease, sandboxDir) {
      staged.delete(lease.leaseId);
      // Nothing was uploaded for a job that names no input (a system executable, no files).
      if (inputFileNames(lease.ad).length > 0) await fetchSandbox(lease, sandboxDir);
      const exe = stagedExecutable(lease.ad);
      if (exe) await chmod(join(sandboxDir, exe), 0o700).catch(() => {});
      // The job's proxy and token are credentials: readable by the job's user alone.
      for (const credential of [proxyFileName(lease.ad), tokenFileName(lease.ad)]) {
        if (credential) await chmod(join(sandboxDir, credential), 0o600);
      }
      staged.set(lease.leaseId, snapshotSandbox(sandboxDir));
      const proxy = proxyFileName(lease.ad);
      if (proxy) {
        const expiry = Number(lease.ad.evaluate(JOB.X509UserProxyExpiration));
        proxies.set(lease.leaseId, {
          file: join(sandboxDir, proxy),
          expiry: Number.isFinite(expiry) ? expiry : 0,
        });
      }
    },

    async complete(lease, outcome, sandboxDir) {
      try {
        const before = staged.get(lease.leaseId) ?? new Map();
        const choice = chooseOutputs(lease.ad, sandboxDir, before);
        // Without outputs nothing waits here, so the completion is queued before the loop
        // claims for the freed CPUs and travels with that claim.
        const sent =
          choice.names.length === 0
            ? NOTHING_SENT
            : await uploadAll(c, lease, choice.names, sandboxDir);
        const outputs = sent.outputs;
        let outputHold: OutputHold | undefined = choice.ok ? undefined : choice.hold;
        if (sent.refused) {
          // Over the schedd's size limits: the job is held saying so, never retried forever.
          outputHold ??= {
            reason: `Error from the pilot: failed to send file(s) to the schedd: ${sent.refused.message}`,
            code: TRANSFER_OUTPUT_HOLD,
            subcode: 0,
          };
        }
        const startHold = holdFields(outcome);
        await carrier.send({
          ...NO_EXIT,
          leaseId: lease.leaseId,
          ...exitFields(outcome),
          ...(startHold.holdReason || !outputHold
            ? startHold
            : {
                holdReason: outputHold.reason,
                holdCode: outputHold.code,
                holdSubcode: outputHold.subcode,
              }),
          outputs,
        });
        staged.delete(lease.leaseId);
        proxies.delete(lease.leaseId);
      } catch (err) {
        // Completed already (our earlier try got through but its reply did not, across a schedd
        // restart), or the lease ended meanwhile and the job went back to the queue: either way
        // there is nothing left to report, and retrying would only be refused again.
        if (hasWireCode(err, "already-exists")) return;
        if (isLostLease(err)) return;
        throw err;
      }
    },

    async release(lease, reason, opts) {
      staged.delete(lease.leaseId);
      proxies.delete(lease.leaseId);
      try {
        await c.releaseLease(lease.leaseId, reason, opts);
      } catch (err) {
        // Already released (our earlier try got through but its reply did not), or the lease
        // ended some other way: either way the job is no longer ours to hand back.
        if (isLostLease(err)) return;
        if (hasWireCode(err, "already-exists")) return;
        throw err;
      }
    },
  };

  /**
   * Up to `max` jobs in one call (the first in dynamic slot `slotNumber`, the next ones after
   * it); completions waiting for a claim go with it.
   */
  async function claimMany(
    slotAd: ClassAd,
    max: number,
    wait?: { waitS: number; signal?: AbortSignal },
    slotNumber?: number,
  ): Promise<JobLease[]> {
    const waitS = wait?.waitS ?? 0;
    // A long poll may take seconds to answer: completions do not wait that long for it.
    const carried = waitS > 0 ? [] : carrier.take();
    let offer: JobOffer;
    try {
      offer = await c.claimJob(
        slotAd.toJSON(),
        waitS,
        // The reply may take the whole wait; the deadline leaves room for the answer itself.
        waitS > 0 ? { deadlineMs: (waitS + 10) * 1000, signal: wait?.signal } : undefined,
        { slotNumber, maxJobs: max, completions: carried.map((p) => p.completion) },
      );
    } catch (err) {
      carrier.answered(carried, undefined);
      throw err;
    }
    carrier.answered(carried, offer.completions);
    const t = now();
    return [offer, ...(offer.moreJobs ?? [])]
      .filter((o) => o.matched)
      .map((o) => ({
        jobId: o.jobId,
        schedd: name,
        leaseId: o.leaseId,
        ad: ClassAd.fromJSON(o.job?.attrs ?? {}),
        leaseMs: leaseLeftMs({ leaseExpiresMs: o.leaseExpiresMs, nowMs: offer.nowMs }, t),
      }));
  }

  /**
   * The user refreshed the job's proxy when the schedd's expiry is later than the copy's: the
   * new one replaces it in the running job's sandbox at once (written beside it, then renamed),
   * as HTCondor's shadow sends a refreshed proxy to the starter. A failed fetch is tried again
   * at the next heartbeat; it never stops the job.
   */
  async function refreshedProxy(lease: JobLease, expiry: number): Promise<void> {
    const p = proxies.get(lease.leaseId);
    if (!p || expiry <= p.expiry) return;
    try {
      const got = await c.fetchProxy(lease.leaseId);
      const tmp = `${p.file}.refresh`;
      const fh = await open(tmp, "w", 0o600);
      try {
        await fh.writeFile(got.proxy);
      } finally {
        await fh.close();
      }
      await rename(tmp, p.file);
      p.expiry = got.expiration || expiry;
    } catch {
      // Kept as it was: the next heartbeat asks again.
    }
  }

  async function fetchSandbox(lease: JobLease, sandboxDir: string): Promise<void> {
    const hash = new Map<string, ReturnType<typeof createHash>>();
    for await (const chunk of c.fetchInput(lease.leaseId)) {
      const rel = safeName(chunk.name);
      const file = join(sandboxDir, rel);
      if (chunk.offset === 0) {
        await mkdir(dirname(file), { recursive: true });
        hash.set(rel, createHash("sha256"));
      }
      const h = hash.get(rel);
      if (!h) {
        throw new InputTransferError(
          `input '${rel}' arrived out of order at offset ${chunk.offset}`,
        );
      }
      // Created private: inputs may hold credentials (the job's proxy).
      const fh = await open(file, chunk.offset === 0 ? "w" : "r+", 0o600);
      try {
        await fh.write(chunk.data, 0, chunk.data.length, chunk.offset);
      } finally {
        await fh.close();
      }
      h.update(chunk.data);
      if (chunk.last) {
        const got = h.digest("hex");
        hash.delete(rel);
        if (got !== chunk.sha256.toLowerCase()) {
          throw new InputTransferError(
            `input '${rel}' checksum mismatch: got ${got}, schedd sent ${chunk.sha256}`,
          );
        }
      }
    }
    if (hash.size) {
      throw new InputTransferError(`input files cut short: ${[...hash.keys()].join(", ")}`);
    }
  }
}

/**
 * The executable's name in the sandbox when it was staged (the default), else undefined: the
 * pilot runs the copy whose hash it checked, never the path on the submit host.
 */
export function stagedExecutable(ad: ClassAd): string | undefined {
  const cmd = ad.evaluate(JOB.Cmd);
  if (typeof cmd !== "string" || cmd === "" || ad.evaluate(JOB.TransferExecutable) === false) {
    return undefined;
  }
  return basename(cmd);
}

/**
 * Output files go up a few at a time. Most are a few bytes (a job's Out and Err), and one round
 * trip each in turn made a job's report the longest part of the pilot's loop turn, which waits
 * for it before claiming for the freed CPUs. At most UPLOADS_AT_ONCE chunks are in flight. After
 * a refusal over the schedd's limits, or any other failure, no further file is started; the
 * ones under way finish first, so a retried report never races an upload still going.
 */
async function uploadAll(
  c: ScheddClient,
  lease: JobLease,
  names: readonly string[],
  sandboxDir: string,
): Promise<{ outputs: OutputFile[]; refused?: Error }> {
  const sent: (OutputFile | undefined)[] = [];
  let next = 0;
  let refused: Error | undefined;
  let failure: unknown;
  const sender = async () => {
    while (next < names.length && refused === undefined && failure === undefined) {
      const i = next++;
      try {
        sent[i] = await upload(c, lease, names[i]!, sandboxDir);
      } catch (err) {
        if (hasWireCode(err, "resource-exhausted")) refused ??= err;
        else failure ??= err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(UPLOADS_AT_ONCE, names.length) }, sender));
  if (failure !== undefined) throw failure;
  const outputs = sent.filter((o): o is OutputFile => o !== undefined);
  return refused ? { outputs, refused } : { outputs };
}

const UPLOADS_AT_ONCE = 4;

const NOTHING_SENT: { outputs: OutputFile[]; refused?: Error } = { outputs: [] };

/** One output file, read a chunk at a time (never whole), its SHA-256 on the last chunk. */
async function upload(c: ScheddClient, lease: JobLease, name: string, sandboxDir: string) {
  const { fd, size } = openOutput(sandboxDir, name);
  try {
    const hash = createHash("sha256");
    // Sized to the file: most outputs are a few bytes, and zeroing a whole chunk for each of
    // them cost more than sending them.
    const buf = Buffer.allocUnsafe(Math.max(1, Math.min(CHUNK_BYTES, size)));
    let offset = 0;
    let sha256 = "";
    for (;;) {
      const n = readSync(fd, buf, 0, Math.min(CHUNK_BYTES, size - offset), offset);
      const part = buf.subarray(0, n);
      hash.update(part);
      // A file that shrank under us ends where it ends; its hash covers what was sent.
      const last = n === 0 || offset + n >= size;
      if (last) sha256 = hash.digest("hex");
      await c.putOutput({
        name,
        offset,
        data: part,
        last,
        sha256,
        leaseId: lease.leaseId,
        jobId: lease.jobId,
      });
      offset += n;
      if (last) return { name, size: offset, sha256 };
    }
  } finally {
    closeSync(fd);
  }
}

/** A job that could not run as asked is held, as HTCondor's starter has it held. */
export function holdFields(o: JobOutcome) {
  if (o.startError) {
    return {
      holdReason: `Error from the pilot: cannot start the job: ${o.startError}`,
      holdCode: o.startFailure?.code ?? 6,
      holdSubcode: o.startFailure?.subcode ?? 0,
    };
  }
  if (o.killed?.holdReason && (o.killed.kind === "memory" || o.killed.kind === "walltime")) {
    return { holdReason: o.killed.holdReason, holdCode: 3, holdSubcode: 0 };
  }
  return {};
}

function exitFields(o: JobOutcome) {
  const signo = o.signal ? (constants.signals as Record<string, number>)[o.signal] : undefined;
  return {
    exitBySignal: o.exitCode === null && signo !== undefined,
    exitCode: o.exitCode ?? (o.startError ? 1 : 0),
    exitSignal: signo ?? 0,
    cpuUserSeconds: o.userS,
    cpuSysSeconds: o.sysS,
  };
}
