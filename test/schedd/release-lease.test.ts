/**
 * schedd.ReleaseLease against a real schedd: a stopping pilot hands a job back and it is Idle at
 * once (vacated, its start counted), durably, exactly once, and only by the pilot holding it.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { codeOf, job, reasonOf, slot, startEnv, submit, type TestEnv } from "./harness.js";

let env: TestEnv;
before(async () => {
  env = await startEnv({ extra: { lease_s: 600 } });
});
after(() => env.close());

test("a released job is Idle at once, vacated with the pilot's reason, and survives a restart", async () => {
  const alice = env.client("alice");
  const c = await submit(alice, [job()]);
  const offer = await env.client("pilot").claimJob(slot());
  assert.equal(offer.jobId, `${c}.0`);
  env.clock.advance(90_000);
  const receipt = await env.client("pilot").releaseLease(offer.leaseId, "pilot retiring");
  assert.equal(receipt.jobStatus, 1);

  // Read back after a restart: the release was committed before the reply.
  await env.restart();
  const [ad] = await env.client("alice").query({ ids: [`${c}.0`] });
  assert.equal(ad!.JobStatus, "1");
  assert.equal(ad!.LastJobStatus, "2");
  assert.equal(ad!.NumJobStarts, "1", "the start is kept, as a vacate keeps it");
  assert.equal(ad!.VacateReason, '"pilot retiring"');
  assert.equal(ad!.LastVacateTime, String(Math.floor(env.clock.now() / 1000)));
  assert.equal(ad!.RemoteWallClockTime, "90");
  assert.equal(ad!.LastRemoteHost, '"slot1@glidein_1"');
  assert.equal(ad!.RemoteHost, undefined);

  // Claimable again at once, by any pilot, with a new lease.
  const again = await env.client("pilot2").claimJob(slot({ Name: '"slot1@glidein_2"' }));
  assert.equal(again.jobId, `${c}.0`);
  assert.notEqual(again.leaseId, offer.leaseId);
  assert.equal(again.job!.attrs.NumJobStarts, "2");
  await env.client("pilot2").completeJob({ leaseId: again.leaseId });
});

test("a second release is already-exists and changes nothing", async () => {
  const alice = env.client("alice");
  const pilot = env.client("pilot");
  const c = await submit(alice, [job()]);
  const offer = await pilot.claimJob(slot());
  await pilot.releaseLease(offer.leaseId, "stopping");
  const before = (await alice.query({ ids: [`${c}.0`] }))[0]!;
  env.clock.advance(5_000);
  await assert.rejects(
    pilot.releaseLease(offer.leaseId, "stopping"),
    (e) => codeOf(e) === "already-exists" && reasonOf(e) === "duplicate-release",
  );
  assert.deepEqual((await alice.query({ ids: [`${c}.0`] }))[0], before);
  // Nor can the released lease be completed or kept alive.
  await assert.rejects(
    pilot.completeJob({ leaseId: offer.leaseId }),
    (e) => codeOf(e) === "not-found" && reasonOf(e) === "stale-lease",
  );
  const hb = await pilot.heartbeat(offer.leaseId);
  assert.deepEqual([hb.action, hb.reason], ["kill", "stopping"]);
  // Leave the queue empty for the next test.
  await alice.act("remove", { ids: [`${c}.0`] });
});

test("a lapsed, completed or unknown lease cannot be released", async () => {
  const alice = env.client("alice");
  const pilot = env.client("pilot");
  const c = await submit(alice, [job(), job()]);
  const lapsing = await pilot.claimJob(slot());
  const done = await pilot.claimJob(slot());
  await pilot.completeJob({ leaseId: done.leaseId });
  env.clock.advance(10 * 60_000);
  env.schedd.tick();
  await assert.rejects(
    pilot.releaseLease(lapsing.leaseId, "too late"),
    (e) => codeOf(e) === "not-found" && reasonOf(e) === "stale-lease",
  );
  const [ad] = await alice.query({ ids: [lapsing.jobId] });
  assert.equal(ad!.JobStatus, "1");
  assert.equal(ad!.VacateReason, undefined, "requeued by the lapse, not by a release");
  await assert.rejects(
    pilot.releaseLease(done.leaseId, "late"),
    (e) => codeOf(e) === "already-exists" && reasonOf(e) === "duplicate-completion",
  );
  await assert.rejects(
    pilot.releaseLease("no-such-lease", "x"),
    (e) => codeOf(e) === "not-found" && reasonOf(e) === "unknown-lease",
  );
  await alice.act("remove", { ids: [`${c}.0`, `${c}.1`] });
});

test("only the pilot holding the lease may release it; users may not call it", async () => {
  const alice = env.client("alice");
  const c = await submit(alice, [job()]);
  const offer = await env.client("pilot").claimJob(slot());
  await assert.rejects(
    env.client("pilot2").releaseLease(offer.leaseId, "not mine"),
    (e) => codeOf(e) === "permission-denied" && reasonOf(e) === "wrong-pilot",
  );
  await assert.rejects(
    alice.releaseLease(offer.leaseId, "user"),
    (e) => codeOf(e) === "permission-denied",
  );
  assert.equal((await alice.query({ ids: [`${c}.0`] }))[0]!.JobStatus, "2", "still running");
  await env.client("pilot").releaseLease(offer.leaseId, "");
  const [ad] = await alice.query({ ids: [`${c}.0`] });
  assert.equal(ad!.JobStatus, "1");
  assert.equal(ad!.VacateReason, '"released by the pilot"', "an empty reason gets a default");
});

test("claim and heartbeat replies carry the schedd's clock next to the lease expiry", async () => {
  await submit(env.client("alice"), [job()]);
  const pilot = env.client("pilot");
  const offer = await pilot.claimJob(slot());
  assert.equal(offer.nowMs, env.clock.now());
  assert.equal(offer.leaseExpiresMs - offer.nowMs!, 10 * 60_000);
  env.clock.advance(1_000);
  const hb = await pilot.heartbeat(offer.leaseId);
  assert.equal(hb.nowMs, env.clock.now());
  assert.equal(hb.leaseExpiresMs - hb.nowMs!, 10 * 60_000);
});

test("a job whose inputs keep failing is held with TransferInputError at the limit, across restarts", async () => {
  const alice = env.client("alice");
  await env.client("admin").act("remove", { constraint: "true" });
  const c = await submit(alice, [job()]);
  const id = `${c}.0`;
  const handBack = async (why: string, inputTransferFailed: boolean) => {
    const offer = await env.client("pilot").claimJob(slot());
    assert.equal(offer.jobId, id);
    return (await env.client("pilot").releaseLease(offer.leaseId, why, { inputTransferFailed }))
      .jobStatus;
  };
  const ad = async () => (await env.client("alice").query({ ids: [id] }))[0]!;

  assert.equal(await handBack("input transfer failed: no such file", true), 1);
  assert.equal((await ad()).NumInputTransferFailures, "1");
  // A pilot retiring is not the job's inputs failing.
  assert.equal(await handBack("pilot retiring", false), 1);
  assert.equal((await ad()).NumInputTransferFailures, "1");
  await env.restart();
  assert.equal(await handBack("input transfer failed: no such file", true), 1);
  assert.equal((await ad()).NumInputTransferFailures, "2");
  // The third failure (the default limit) holds it.
  assert.equal(await handBack("input transfer failed: permission denied", true), 5);
  const held = await ad();
  assert.equal(held.JobStatus, "5");
  assert.equal(held.HoldReasonCode, "13");
  assert.equal(
    held.HoldReason,
    '"input files could not be transferred (3 tries): input transfer failed: permission denied"',
  );
  assert.equal((await env.client("pilot").claimJob(slot())).matched, false, "held jobs wait");

  // A release by the owner gives it its tries again.
  await env.client("alice").act("release", { ids: [id] });
  const released = await ad();
  assert.equal(released.JobStatus, "1");
  assert.equal(released.NumInputTransferFailures, "0");
  assert.equal(await handBack("input transfer failed: no such file", true), 1);
  await env.client("admin").act("remove", { ids: [id] });
});
