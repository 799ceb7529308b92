/**
 * A claim the pilot cancels while the schedd is writing its lease (a pilot's periodic check
 * turned START off, or it got SIGTERM, as the job was matched) gives the job back at once: no
 * pilot will run it, and it would otherwise wait for its lease to lapse (20 minutes).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { CLAIM_CANCELLED } from "../../src/schedd/pilot-service.js";
import { job, slot, startEnv, submit } from "./harness.js";

test("a claim cancelled while its lease is committed releases the lease, and the job is Idle again", async (t) => {
  const env = await startEnv();
  t.after(() => env.close());
  const alice = env.client("alice");
  const pilot = env.client("pilot");
  const cluster = await submit(alice, [job()]);

  // The real schedd's commit is held by the test (the one seam it has) until the cancel has
  // arrived, so the cancel falls inside the window every time instead of now and then.
  const store = env.schedd.queue.store;
  const commit = store.committed.bind(store);
  let open!: () => void;
  const gate = new Promise<void>((r) => (open = r));
  let held = 0;
  store.committed = async () => {
    await commit();
    held++;
    await gate;
  };
  t.after(() => {
    store.committed = commit;
  });

  const cancel = new AbortController();
  const claim = pilot.claimJob(slot(), 5, { signal: cancel.signal, deadlineMs: 15_000 });
  for (let i = 0; i < 400 && held === 0; i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(held, 1, "the claim matched the job and is committing its lease");
  cancel.abort();
  await assert.rejects(claim, /cancelled/);
  // Frames on one connection arrive in order: once a later call is answered, the schedd has
  // seen the cancel. (A heartbeat for no lease is refused without a commit.)
  await assert.rejects(pilot.heartbeat("no-such-lease"));
  store.committed = commit;
  open();

  let status = "";
  for (let i = 0; i < 300 && status !== "1"; i++) {
    const [j] = await alice.query({ ids: [`${cluster}.0`] });
    status = j?.JobStatus ?? "";
    if (status !== "1") await new Promise((r) => setTimeout(r, 50));
  }
  assert.equal(status, "1", "the job is Idle again, not Running on a lease nobody holds");
  const [j] = await alice.query({ ids: [`${cluster}.0`] });
  assert.equal(j?.VacateReason, JSON.stringify(CLAIM_CANCELLED), "the job says why it is back");

  // And the next pilot gets it.
  const offer = await pilot.claimJob(slot());
  assert.equal(offer.matched, true);
  assert.equal(offer.jobId, `${cluster}.0`);
});
