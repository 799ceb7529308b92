/**
 * The periodic policy pass at a real schedd is bounded: a job whose PeriodicRemove costs more than
 * its step budget is held saying so, other jobs' policy still applies, a pass past its own budget
 * leaves the rest for the next pass, and while a costly pass runs a user's `q` answers first.
 */
import assert from "node:assert/strict";
import { after, test } from "node:test";
import type { JobAttrs } from "../../src/schedd/job-status.js";
import { job, startEnv, submit, type TestEnv } from "./harness.js";

/**
 * A small ad whose PeriodicRemove doubles its work at each of 30 attribute references: 2^30
 * evaluations unless a budget stops it (each evaluation alone may take ten million steps).
 */
function hostile(extra: JobAttrs = {}): JobAttrs {
  const attrs: JobAttrs = { X0: "1" };
  for (let i = 1; i <= 30; i++) attrs[`X${i}`] = `X${i - 1} + X${i - 1}`;
  return job({ ...attrs, PeriodicRemove: "X30 < 0", ...extra });
}

const envs: TestEnv[] = [];
after(async () => {
  for (const e of envs) await e.close();
});

async function env(extra: object): Promise<TestEnv> {
  const e = await startEnv({ extra });
  envs.push(e);
  return e;
}

test("a PeriodicRemove past its job's step budget is held with code 5 saying so; other jobs' policy still applies", async () => {
  const e = await env({ periodic_job_step_budget: 100_000 });
  const alice = e.client("alice");
  const bad = await submit(alice, [hostile()]);
  const good = await submit(alice, [job({ PeriodicHold: "true", PeriodicHoldReason: '"asked"' })]);
  await e.schedd.periodicPass();
  const [badAd] = await alice.query({ ids: [`${bad}.0`] });
  assert.equal(badAd!.JobStatus, "5");
  assert.equal(badAd!.HoldReasonCode, "5");
  assert.match(badAd!.HoldReason!, /PeriodicRemove expression could not be evaluated/);
  assert.match(badAd!.HoldReason!, /step budget \(100000 steps per job\)/);
  assert.match(badAd!.HoldReason!, /qedit/);
  const [goodAd] = await alice.query({ ids: [`${good}.0`] });
  assert.equal(goodAd!.JobStatus, "5");
  assert.equal(goodAd!.HoldReason, '"asked"');
  assert.equal(goodAd!.HoldReasonCode, "3");

  // Held, it is not evaluated again; released, its PeriodicRemove is tried (and held) again.
  await e.schedd.periodicPass();
  await alice.act("release", { ids: [`${bad}.0`] });
  const [released] = await alice.query({ ids: [`${bad}.0`] });
  assert.equal(released!.JobStatus, "1");
  await e.schedd.periodicPass();
  const [again] = await alice.query({ ids: [`${bad}.0`] });
  assert.equal(again!.JobStatus, "5");
  assert.equal(again!.HoldReasonCode, "5");
});

test("a pass past its own step budget stops and the jobs it did not reach go first next pass", async () => {
  const e = await env({ periodic_job_step_budget: 100_000, periodic_pass_step_budget: 250_000 });
  const alice = e.client("alice");
  const c = await submit(
    alice,
    Array.from({ length: 5 }, () => hostile()),
  );
  const held = async (): Promise<number> =>
    (await alice.query({ constraint: `ClusterId == ${c}` })).filter((a) => a.JobStatus === "5")
      .length;
  await e.schedd.periodicPass();
  assert.equal(await held(), 2, "two whole job budgets fit in the pass; the third is deferred");
  await e.schedd.periodicPass();
  assert.equal(await held(), 4);
  await e.schedd.periodicPass();
  assert.equal(await held(), 5);
});

test("while a costly periodic pass runs, a user's q answers before the pass ends", async () => {
  const e = await env({});
  const alice = e.client("alice");
  const c = await submit(
    alice,
    Array.from({ length: 40 }, () => hostile()),
  );
  // Connected before the pass: what is compared is the calls' turns, not a handshake.
  await alice.query({ ids: [`${c}.0`] });
  const order: string[] = [];
  const pass = e.schedd.periodicPass().then(() => order.push("pass"));
  const small = await alice.query({ ids: [`${c}.0`] });
  order.push(`q:${small.length}`);
  await pass;
  assert.deepEqual(order, ["q:1", "pass"]);
  const ads = await alice.query({ constraint: `ClusterId == ${c}` });
  assert.equal(ads.filter((a) => a.HoldReasonCode === "5").length, 40);
});
