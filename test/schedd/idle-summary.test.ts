import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { codeOf, job, slot, startEnv, submit, type TestEnv } from "./harness.js";

let env: TestEnv;
before(async () => {
  env = await startEnv();
});
after(() => env.close());

test("idle jobs grouped by the frontend's match attributes, with owners and running per entry", async () => {
  const alice = env.client("alice");
  const bob = env.client("bob");
  await submit(alice, [
    job({ DESIRED_Sites: '"T2_US_UCSD"' }),
    job({ DESIRED_Sites: '"T2_US_UCSD"' }),
    job({ DESIRED_Sites: '"T2_IT_Pisa"', RequestMemory: "4000" }),
  ]);
  await submit(bob, [
    job({ DESIRED_Sites: '"T2_US_UCSD"', JobPrio: "3" }),
    job({ DESIRED_Sites: '"T1_US_FNAL"' }),
  ]);
  const pilot = env.client("pilot");
  await pilot.claimJob(slot({ START: 'TARGET.DESIRED_Sites == "T1_US_FNAL"' }));

  const fe = env.client("frontend");
  const summary = await fe.idleSummary("", ["DESIRED_Sites"]);
  const bySite = new Map(summary.groups.map((g) => [g.representative.attrs.DESIRED_Sites, g]));
  assert.equal(summary.idleTotal, 4);
  assert.equal(bySite.get('"T2_US_UCSD"')!.count, 3);
  assert.deepEqual(bySite.get('"T2_US_UCSD"')!.owners, { alice: 2, bob: 1 });
  assert.equal(bySite.get('"T2_IT_Pisa"')!.count, 1);
  assert.equal(bySite.has('"T1_US_FNAL"'), false);
  assert.deepEqual(summary.runningByEntry, { Entry_A: 1 });

  const onlyBob = await fe.idleSummary('Owner == "bob"', ["DESIRED_Sites"]);
  assert.deepEqual(
    onlyBob.groups.map((g) => [g.count, g.owners]),
    [[1, { bob: 1 }]],
  );
  const byMemory = await fe.idleSummary("", ["RequestMemory"]);
  assert.deepEqual(byMemory.groups.map((g) => g.count).sort(), [1, 3]);
});

test("users may not ask for the idle summary", async () => {
  await assert.rejects(
    env.client("alice").idleSummary("", []),
    (e) => codeOf(e) === "permission-denied",
  );
});
