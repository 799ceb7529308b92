import assert from "node:assert/strict";
import { after, afterEach, before, test } from "node:test";
import { job, slot, startEnv, submit, type TestEnv } from "./harness.js";

let env: TestEnv;
before(async () => {
  env = await startEnv();
});
after(() => env.close());
afterEach(async () => {
  await env.client("admin").act("remove", { constraint: "true" });
});

test("the match is symmetric: job Requirements and slot START both hold", async () => {
  const alice = env.client("alice");
  const pilot = env.client("pilot");
  await submit(alice, [job({ RequestMemory: "16000" })]);
  assert.equal((await pilot.claimJob(slot())).matched, false, "slot too small for the job");
  const c = await submit(alice, [job({ Project: '"cms"' })]);
  const refusing = slot({ START: 'TARGET.Project =!= "cms"' });
  assert.equal((await pilot.claimJob(refusing)).matched, false, "slot refuses the job");
  const offer = await pilot.claimJob(slot());
  assert.equal(offer.matched, true);
  assert.equal(offer.jobId, `${c}.0`);
  assert.equal(offer.job!.attrs.JobStatus, "2");
  assert.equal(offer.job!.attrs.NumJobStarts, "1");
  assert.equal(offer.job!.attrs.RemoteHost, '"slot1@glidein_1"');
  assert.equal(offer.job!.attrs.MATCH_GLIDEIN_Entry_Name, '"Entry_A"');
  assert.ok(offer.leaseId.length > 0);
  assert.equal(offer.leaseExpiresMs, env.clock.now() + 20 * 60_000);
});

test("best job Rank first, then JobPrio, then the oldest job", async () => {
  const alice = env.client("alice");
  const pilot = env.client("pilot");
  const c = await submit(alice, [
    job({ Rank: "0" }),
    job({ Rank: "0", JobPrio: "10" }),
    job({ Rank: 'TARGET.GLIDEIN_Entry_Name == "Entry_A" ? 100 : 0' }),
    job({ Rank: "0", JobPrio: "10" }),
  ]);
  const order: string[] = [];
  for (let i = 0; i < 4; i++) order.push((await pilot.claimJob(slot())).jobId);
  assert.deepEqual(order, [`${c}.2`, `${c}.1`, `${c}.3`, `${c}.0`]);
});

test("fair between owners: the owner with the least recent usage goes first", async () => {
  const alice = env.client("alice");
  const bob = env.client("bob");
  const pilot = env.client("pilot");
  await submit(alice, [job(), job(), job(), job()]);
  await submit(bob, [job(), job()]);
  const owners: string[] = [];
  for (let i = 0; i < 6; i++) {
    const o = await pilot.claimJob(slot());
    owners.push(o.job!.attrs.Owner!);
  }
  // alice's jobs are older, yet bob gets every other slot while he has jobs.
  assert.deepEqual(owners.slice(0, 4).sort(), ['"alice"', '"alice"', '"bob"', '"bob"']);
  assert.deepEqual(owners.slice(4), ['"alice"', '"alice"']);
});

test("a slot that reads an attribute outside the autocluster signature still matches right", async () => {
  const alice = env.client("alice");
  const pilot = env.client("pilot");
  const c = await submit(alice, [job({ Experiment: '"atlas"' }), job({ Experiment: '"cms"' })]);
  const offer = await pilot.claimJob(slot({ START: 'TARGET.Experiment == "cms"' }));
  assert.equal(offer.jobId, `${c}.1`);
  assert.equal(
    (await pilot.claimJob(slot({ START: 'TARGET.Experiment == "cms"' }))).matched,
    false,
  );
});

test("a claim waits for work when asked to", async () => {
  const pilot = env.client("pilot");
  const waiting = pilot.claimJob(slot(), 20, { deadlineMs: 30_000 });
  const c = await submit(env.client("alice"), [job()]);
  const offer = await waiting;
  assert.equal(offer.jobId, `${c}.0`);
});

test("held and removed jobs are not handed out", async () => {
  const alice = env.client("alice");
  const c = await submit(alice, [job(), job()]);
  await alice.act("hold", { ids: [`${c}.0`] });
  await alice.act("remove", { ids: [`${c}.1`] });
  assert.equal((await env.client("pilot").claimJob(slot())).matched, false);
});

test("RemoteHost names the dynamic slot the pilot gives the job, and history keeps it", async () => {
  const alice = env.client("alice");
  const pilot = env.client("pilot");
  const c = await submit(alice, [job(), job()]);
  const offer = await pilot.claimJob(slot(), 0, undefined, { slotNumber: 3 });
  assert.equal(offer.job!.attrs.RemoteHost, '"slot1_3@glidein_1"');
  const [running] = await alice.query({ ids: [offer.jobId] });
  assert.equal(running!.RemoteHost, '"slot1_3@glidein_1"');
  await pilot.completeJob({ leaseId: offer.leaseId, exitCode: 0 });
  const [h] = await alice.query({ ids: [offer.jobId], history: true });
  assert.equal(h!.LastRemoteHost, '"slot1_3@glidein_1"');
  assert.equal(h!.RemoteHost, undefined);
  // A pilot that names no dynamic slot (an older one): the slot's own Name, as before.
  const plain = await pilot.claimJob(slot());
  assert.equal(plain.jobId, `${c}.1`);
  assert.equal(plain.job!.attrs.RemoteHost, '"slot1@glidein_1"');
});
