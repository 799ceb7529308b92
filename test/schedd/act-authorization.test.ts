import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { job, startEnv, submit, type TestEnv } from "./harness.js";

let env: TestEnv;
before(async () => {
  env = await startEnv();
});
after(() => env.close());

test("hold, release and rm of one's own jobs, with reasons", async () => {
  const alice = env.client("alice");
  const c = await submit(alice, [job(), job()]);
  const held = await alice.act("hold", { ids: [`${c}.0`] }, "waiting for data");
  assert.deepEqual(held, { done: [`${c}.0`], refused: [] });
  let [ad] = await alice.query({ ids: [`${c}.0`] });
  assert.equal(ad!.JobStatus, "5");
  assert.equal(ad!.HoldReason, '"waiting for data"');
  assert.equal(ad!.HoldReasonCode, "1");
  assert.deepEqual((await alice.act("hold", { ids: [`${c}.0`] })).refused, [
    { id: `${c}.0`, reason: "already held" },
  ]);
  await alice.act("release", { ids: [`${c}.0`] });
  [ad] = await alice.query({ ids: [`${c}.0`] });
  assert.equal(ad!.JobStatus, "1");
  assert.equal(ad!.HoldReason, undefined);

  const removed = await alice.act("remove", { ids: [String(c)] }, "not needed");
  assert.deepEqual(removed.done, [`${c}.0`, `${c}.1`]);
  assert.equal((await alice.query({ ids: [String(c)] })).length, 0);
  const hist = await alice.query({ ids: [String(c)], history: true });
  assert.deepEqual(
    hist.map((a) => [a.JobStatus, a.RemoveReason]),
    [
      ["3", '"not needed"'],
      ["3", '"not needed"'],
    ],
  );
});

test("user A cannot remove, hold or edit user B's job; an admin can", async () => {
  const bob = env.client("bob");
  const c = await submit(bob, [job()]);
  const alice = env.client("alice");
  for (const action of ["remove", "hold"] as const) {
    const out = await alice.act(action, { ids: [`${c}.0`] });
    assert.deepEqual(out.done, []);
    assert.match(out.refused[0]!.reason, /permission denied: owned by bob/);
  }
  const byOwner = await alice.act("remove", { owner: "bob" });
  assert.deepEqual(byOwner.done, []);
  const edited = await alice.edit({ ids: [`${c}.0`] }, "JobPrio", "10");
  assert.deepEqual(edited.done, []);
  const [ad] = await bob.query({ ids: [`${c}.0`] });
  assert.equal(ad!.JobStatus, "1");
  assert.equal(ad!.JobPrio, undefined);

  const byAdmin = await env.client("admin").act("remove", { constraint: 'Owner == "bob"' });
  assert.ok(byAdmin.done.includes(`${c}.0`));
  assert.equal((await bob.query({ ids: [`${c}.0`] })).length, 0);
});

test("qedit sets an attribute and refuses protected ones and bad expressions", async () => {
  const alice = env.client("alice");
  const c = await submit(alice, [job()]);
  const ok = await alice.edit({ ids: [`${c}.0`] }, "JobPrio", "7");
  assert.deepEqual(ok.done, [`${c}.0`]);
  assert.equal((await alice.query({ ids: [`${c}.0`] }))[0]!.JobPrio, "7");
  const prot = await alice.edit({ ids: [`${c}.0`] }, "Owner", '"bob"');
  assert.match(prot.refused[0]!.reason, /cannot be changed/);
  const bad = await alice.edit({ ids: [`${c}.0`] }, "Foo", "1 +");
  assert.match(bad.refused[0]!.reason, /bad expression/);
});

test("unknown ids are reported, not silently ignored", async () => {
  const out = await env.client("alice").act("remove", { ids: ["99999.0"] });
  assert.deepEqual(out, {
    done: [],
    refused: [{ id: "99999.0", reason: "not found in the queue" }],
  });
});
