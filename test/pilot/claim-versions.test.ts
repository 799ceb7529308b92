/**
 * A pilot claims several jobs in one call and reports a completion with its next claim, against
 * a real schedd; against a schedd from before both (its ClaimJob messages as they were, over the
 * same TLS and queue), it gets one job per call and its completions arrive through CompleteJob.
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import protobuf from "protobufjs";
import { ClassAd } from "../../src/classad/index.js";
import { systemClock } from "../../src/common/clock.js";
import type { JobLease } from "../../src/pilot/interfaces.js";
import type { JobOutcome } from "../../src/pilot/runner/run-job.js";
import { scheddSource } from "../../src/pilot/schedd-source.js";
import { scheddClient, type ScheddClient } from "../../src/schedd/client.js";
import { JobQueue } from "../../src/schedd/queue.js";
import { ScheddStore } from "../../src/schedd/store.js";
import { createAuthorizer } from "../../src/security/authz.js";
import { NotFoundError, createRpcServer, type RpcServer } from "../../src/wire/index.js";
import {
  DN,
  job,
  rpcFor,
  slot,
  startEnv,
  submit,
  testPki,
  type TestEnv,
} from "../schedd/harness.js";

let env: TestEnv;
let dir: string;
/** The jobs' sandbox: empty, so they have no outputs to upload. */
let sandbox: string;
before(async () => {
  env = await startEnv();
  dir = mkdtempSync(join(tmpdir(), "updraft-claim-versions-"));
  sandbox = join(dir, "sandbox");
  mkdirSync(sandbox);
});
after(async () => {
  await env.close();
  rmSync(dir, { recursive: true, force: true });
});

const exit0 = (l: JobLease): JobOutcome => ({
  jobId: l.jobId,
  exitCode: 0,
  signal: null,
  wallS: 1,
  userS: 0.5,
  sysS: 0.1,
  peakRssMb: 1,
});

/** The pilot's client with its lone CompleteJob calls counted. */
function counting(c: ScheddClient): { client: ScheddClient; alone: () => number } {
  let n = 0;
  const client = {
    ...c,
    completeJob: (x: Parameters<ScheddClient["completeJob"]>[0]) => {
      n++;
      return c.completeJob(x);
    },
  };
  return { client, alone: () => n };
}

test("with this schedd: several jobs in one claim, and a completion travels with the next claim", async () => {
  const alice = env.client("alice");
  const c = await submit(alice, [job(), job(), job()]);
  const { client, alone } = counting(env.client("pilot"));
  const src = scheddSource("s", client);
  const ad = ClassAd.fromJSON(slot());
  const leases = await src.claimMany!(ad, 2);
  assert.deepEqual(
    leases.map((l) => l.jobId),
    [`${c}.0`, `${c}.1`],
  );
  // As the pilot's loop does: the report starts, then the claim for the freed CPU goes out.
  const reported = src.complete(leases[0]!, exit0(leases[0]!), sandbox);
  const next = await src.claimMany!(ad, 1);
  await reported;
  assert.deepEqual(
    next.map((l) => l.jobId),
    [`${c}.2`],
  );
  assert.equal(alone(), 0, "the completion went with the claim");
  // With no claim after it, a completion goes alone.
  await src.complete(leases[1]!, exit0(leases[1]!), sandbox);
  assert.equal(alone(), 1);
  const done = await alice.query({ history: true, constraint: `ClusterId == ${c}` });
  assert.deepEqual(done.map((j) => [j.ProcId, j.JobStatus, j.NumJobCompletions]).sort(), [
    ["0", "4", "1"],
    ["1", "4", "1"],
  ]);
});

/** SlotOffer and JobOffer as they were before max_jobs and completions. */
const BEFORE = protobuf.parse(`
  syntax = "proto3";
  message ClassAd { map<string, string> attrs = 1; }
  message SlotOffer { ClassAd slot = 1; uint32 wait_seconds = 2; }
  message JobOffer {
    bool matched = 1; string job_id = 2; ClassAd job = 3; string lease_id = 4;
    uint64 lease_expires_ms = 5; uint64 now_ms = 6;
  }
`).root;

function before1(name: string) {
  const t = BEFORE.lookupType(name);
  return {
    encode: (v: object) => t.encode(t.fromObject(v)).finish(),
    decode: (b: Uint8Array) => t.toObject(t.decode(b), { longs: Number, defaults: true }),
  };
}

/** A schedd from before: ClaimJob in the old messages, CompleteJob as it is, a real queue. */
async function startScheddBefore(): Promise<{ server: RpcServer; queue: JobQueue; url: string }> {
  const { pki } = testPki();
  const store = new ScheddStore(join(dir, "before.db"));
  const queue = new JobQueue(store, systemClock, {
    leaseMs: 600_000,
    significantAttributes: ["RequestCpus", "RequestMemory"],
    entryAttribute: "MATCH_GLIDEIN_Entry_Name",
    slotEntryAttribute: "GLIDEIN_Entry_Name",
    usageHalfLifeMs: 86_400_000,
  });
  const server = createRpcServer({
    certFile: pki.host.certFile,
    keyFile: pki.host.keyFile,
    trustDir: pki.caDir,
    authorizer: createAuthorizer({
      rules: [{ identity: DN.pilot, roles: ["pilot"] }],
      default_roles: [],
    }),
  });
  const roles = ["pilot"];
  server.unary(
    "schedd.ClaimJob",
    { roles, request: before1("SlotOffer"), response: before1("JobOffer") },
    (req, ctx) => {
      const r = queue.claim(
        (req as { slot: { attrs: Record<string, string> } }).slot.attrs,
        ctx.identity,
      );
      if (!r.matched) return { matched: false };
      return {
        matched: true,
        jobId: r.jobId,
        job: { attrs: r.attrs },
        leaseId: r.leaseId,
        leaseExpiresMs: r.leaseExpires,
        nowMs: Date.now(),
      };
    },
  );
  server.unary(
    "schedd.CompleteJob",
    { roles, request: "JobCompletion", response: "CompletionReceipt" },
    (req: { leaseId: string; exitCode: number }, ctx) => {
      const exit = {
        exitBySignal: false,
        exitCode: req.exitCode,
        exitSignal: 0,
        cpuUser: 0,
        cpuSys: 0,
      };
      const r = queue.complete(req.leaseId, ctx.identity, exit, []);
      if (!r.ok) throw new NotFoundError(r.message);
      return { jobStatus: r.jobStatus };
    },
  );
  await server.listen();
  return { server, queue, url: `wss://localhost:${server.address().port}/` };
}

test("with a schedd from before: one job per claim, and completions sent with CompleteJob", async () => {
  const { server, queue, url } = await startScheddBefore();
  const { pki, creds } = testPki();
  const rpc = rpcFor(pki, creds, "pilot", url);
  try {
    const cluster = queue.reserveCluster("alice");
    assert.equal(queue.submit(cluster, "alice", [job(), job(), job()]).ok, true);
    const { client, alone } = counting(scheddClient(rpc));
    const src = scheddSource("old", client);
    const ad = ClassAd.fromJSON(slot());
    const first = await src.claimMany!(ad, 3);
    assert.deepEqual(
      first.map((l) => l.jobId),
      [`${cluster}.0`],
      "max_jobs is not known there",
    );
    const reported = src.complete(first[0]!, exit0(first[0]!), sandbox);
    const second = await src.claimMany!(ad, 3);
    await reported;
    assert.equal(alone(), 1, "the claim carried it, the schedd did not answer it: sent again");
    assert.equal(queue.store.historyEnd(cluster, 0)?.status, 4);
    // The pilot now knows: the next completion goes alone at once, and is taken once.
    const reported2 = src.complete(second[0]!, exit0(second[0]!), sandbox);
    await src.claimMany!(ad, 3);
    await reported2;
    assert.equal(alone(), 2);
    assert.equal(queue.store.historyEnd(cluster, 1)?.status, 4);
  } finally {
    await rpc.close();
    await server.close();
    queue.store.close();
  }
});
