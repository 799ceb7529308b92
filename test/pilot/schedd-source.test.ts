/**
 * The schedd `JobSource`'s mappings over a scripted schedd client: heartbeat verdicts and lease
 * errors, input checksum checks, the output list and the exit fields sent on completion.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { ClassAd } from "../../src/classad/index.js";
import { hasErrorCode } from "../../src/common/errors.js";
import type { JobLease } from "../../src/pilot/interfaces.js";
import type { JobOutcome } from "../../src/pilot/runner/run-job.js";
import { leaseLeftMs, scheddSource } from "../../src/pilot/schedd-source.js";
import type { ScheddClient } from "../../src/schedd/client.js";
import type { FileChunk, JobCompletion } from "../../src/schedd/messages.js";
import {
  AlreadyExistsError,
  NotFoundError,
  PermissionDeniedError,
  UnavailableError,
} from "../../src/wire/index.js";

const lease = (attrs: Record<string, string> = {}): JobLease => ({
  jobId: "1.0",
  schedd: "s",
  leaseId: "L1",
  ad: ClassAd.fromJSON(attrs),
});

const sha = (s: string) => createHash("sha256").update(s).digest("hex");

function chunk(name: string, offset: number, data: string, last: boolean, sum = ""): FileChunk {
  const bytes = Buffer.from(data);
  return { name, offset, data: bytes, last, sha256: sum, leaseId: "L1", jobId: "" };
}

function source(c: Partial<Record<keyof ScheddClient, unknown>>, now?: () => number) {
  return scheddSource("s", c as unknown as ScheddClient, now);
}

test("heartbeat replies and lease errors map to verdicts", async () => {
  let reply: () => unknown = () => ({ action: "continue", reason: "" });
  const s = source({ heartbeat: async () => reply() });
  assert.deepEqual(await s.heartbeat(lease()), { action: "continue" });
  reply = () => ({ action: "kill", reason: "job held by alice" });
  assert.deepEqual(await s.heartbeat(lease()), { action: "remove", reason: "job held by alice" });
  reply = () => ({ action: "kill", reason: "lease lapsed without heartbeat" });
  assert.deepEqual(await s.heartbeat(lease()), { action: "lost" });
  reply = () => ({ action: "kill", reason: "job removed" });
  assert.deepEqual(await s.heartbeat(lease()), { action: "remove", reason: "job removed" });
  reply = () => {
    throw new NotFoundError("no lease L1", { reason: "expired" });
  };
  assert.deepEqual(await s.heartbeat(lease()), { action: "lost" });
  // An unreachable schedd is not a verdict: the loop retries.
  reply = () => {
    throw new UnavailableError("down");
  };
  await assert.rejects(s.heartbeat(lease()), UnavailableError);
});

test("stageIn writes chunked inputs and refuses a checksum mismatch", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "updraft-source-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  let chunks: FileChunk[] = [];
  let fetches = 0;
  const s = source({
    async *fetchInput() {
      fetches++;
      yield* chunks;
    },
  });
  const withInput = lease({ Cmd: '"/bin/sh"', TransferInput: '"sub/a.txt"' });
  chunks = [chunk("sub/a.txt", 0, "hel", false), chunk("sub/a.txt", 3, "lo", true, sha("hello"))];
  await s.stageIn(withInput, dir);
  assert.equal(readFileSync(join(dir, "sub/a.txt"), "utf8"), "hello");
  // What the schedd sent wrong is input-transfer, with what was wrong.
  const refused = async (sent: FileChunk[], why: RegExp) => {
    chunks = sent;
    await assert.rejects(
      s.stageIn(withInput, dir),
      (err: Error) => hasErrorCode(err, "input-transfer") && why.test(err.message),
    );
  };
  await refused([chunk("b.txt", 0, "x", true, sha("y"))], /checksum mismatch/);
  await refused([chunk("../escape", 0, "x", true, sha("x"))], /unsafe/);
  await refused([chunk("c.txt", 3, "lo", true, sha("lo"))], /c.txt' arrived out of order/);
  await refused([chunk("d.txt", 0, "he", false)], /input files cut short: d.txt/);
  // A job that names no input (a system executable not transferred) fetches nothing.
  const before = fetches;
  await s.stageIn(lease({ Cmd: '"/bin/sh"', TransferExecutable: "false" }), dir);
  assert.equal(fetches, before);
});

test("complete uploads present outputs, holds for a missing one, reports a signal death", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "updraft-source-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, "a.txt"), "out\n");
  const puts: FileChunk[] = [];
  let done: JobCompletion | undefined;
  const s = source({
    putOutput: async (c: FileChunk) => puts.push(c),
    completeJob: async (c: JobCompletion) => {
      done = c;
      return { jobStatus: 4 };
    },
  });
  const outcome: JobOutcome = {
    jobId: "1.0",
    exitCode: null,
    signal: "SIGKILL",
    wallS: 1,
    userS: 0.5,
    sysS: 0.25,
    peakRssMb: 1,
  };
  await s.complete(lease({ TransferOutput: '"a.txt,missing.txt"' }), outcome, dir);
  assert.deepEqual(
    puts.map((p) => [p.name, p.offset, p.last, p.sha256]),
    [["a.txt", 0, true, sha("out\n")]],
  );
  assert.deepEqual(done, {
    leaseId: "L1",
    exitBySignal: true,
    exitCode: 0,
    exitSignal: 9,
    cpuUserSeconds: 0.5,
    cpuSysSeconds: 0.25,
    outputs: [{ name: "a.txt", size: 4, sha256: sha("out\n") }],
    holdReason:
      "Error from the pilot: failed to send file(s) to the schedd: error reading from " +
      `${join(dir, "missing.txt")}: (errno 2) No such file or directory`,
    holdCode: 12,
    holdSubcode: 2,
  });
});

test("the lease's time left comes from the schedd's clock, whatever the pilot's says", async () => {
  // The pilot's clock is an hour ahead of the schedd's: the lease still has 20 minutes.
  const pilotNow = () => Date.UTC(2026, 0, 1, 13);
  const scheddNow = Date.UTC(2026, 0, 1, 12);
  const s = source(
    {
      claimJob: async () => ({
        matched: true,
        jobId: "1.0",
        job: { attrs: {} },
        leaseId: "L1",
        leaseExpiresMs: scheddNow + 1_200_000,
        nowMs: scheddNow,
      }),
      heartbeat: async () => ({
        action: "continue",
        reason: "",
        leaseExpiresMs: scheddNow + 600_000,
        nowMs: scheddNow,
      }),
    },
    pilotNow,
  );
  assert.equal((await s.claim(ClassAd.fromJSON({})))?.leaseMs, 1_200_000);
  assert.deepEqual(await s.heartbeat(lease()), { action: "continue", leaseMs: 600_000 });
  // A schedd that does not send its clock: the pilot's own is all there is.
  assert.equal(leaseLeftMs({ leaseExpiresMs: 5_000 }, 1_000), 4_000);
  assert.equal(leaseLeftMs({ leaseExpiresMs: 0, nowMs: 0 }, 1_000), undefined);
});

test("release hands the lease back with the reason; an ended lease is not an error", async () => {
  const sent: [string, string][] = [];
  let fail: (() => never) | undefined;
  const s = source({
    releaseLease: async (leaseId: string, reason: string) => {
      sent.push([leaseId, reason]);
      if (fail) fail();
      return { jobStatus: 1 };
    },
  });
  await s.release(lease(), "pilot terminated");
  assert.deepEqual(sent, [["L1", "pilot terminated"]]);
  for (const err of [
    new AlreadyExistsError("already released", { reason: "duplicate-release" }),
    new NotFoundError("lapsed", { reason: "stale-lease" }),
    new PermissionDeniedError("not yours", { reason: "wrong-pilot" }),
  ]) {
    fail = () => {
      throw err;
    };
    await s.release(lease(), "again");
  }
  // Unreachable: thrown, so the loop keeps the release queued and tries again.
  fail = () => {
    throw new UnavailableError("down");
  };
  await assert.rejects(s.release(lease(), "later"), UnavailableError);
  assert.equal(sent.length, 5);
});

test("complete: a completion the schedd already has, or a lease that ended, is not an error", async (t) => {
  let calls = 0;
  let fail: (() => never) | undefined;
  const s = source({
    completeJob: async () => {
      calls++;
      if (fail) fail();
      return { jobStatus: 4 };
    },
  });
  const outcome: JobOutcome = {
    jobId: "1.0",
    exitCode: 0,
    signal: null,
    wallS: 1,
    userS: 0,
    sysS: 0,
    peakRssMb: 1,
  };
  const dir = mkdtempSync(join(tmpdir(), "updraft-source-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  for (const err of [
    new AlreadyExistsError("already completed", { reason: "duplicate-completion" }),
    new NotFoundError("lapsed", { reason: "stale-lease" }),
    new PermissionDeniedError("not yours", { reason: "wrong-pilot" }),
  ]) {
    fail = () => {
      throw err;
    };
    await s.complete(lease(), outcome, dir);
  }
  // Unreachable: thrown, so the loop keeps the report queued and tries again.
  fail = () => {
    throw new UnavailableError("down");
  };
  await assert.rejects(s.complete(lease(), outcome, dir), UnavailableError);
  assert.equal(calls, 4);
});
