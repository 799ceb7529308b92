/** The schedd's audit trail: who claimed, completed, held, released, removed or edited which job. */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { pino } from "pino";
import { job, slot, startEnv, submit, type TestEnv } from "./harness.js";

type Line = Record<string, unknown> & { msg: string; level: number };
const lines: Line[] = [];
const logger = pino(
  { level: "info" },
  { write: (s: string) => void lines.push(JSON.parse(s) as Line) },
);

let env: TestEnv;
before(async () => {
  env = await startEnv({ logger });
});
after(() => env.close());

const INFO = 30;
const find = (msg: string) => lines.filter((l) => l.msg === msg && l.level === INFO);

test("claims and completions are logged at info with the job, lease and pilot identity", async () => {
  const c = await submit(env.client("alice"), [job()]);
  const offer = await env.client("pilot").claimJob(slot());
  assert.equal(offer.jobId, `${c}.0`);
  await env.client("pilot").completeJob({ leaseId: offer.leaseId });
  const claimed = find("claimed").find((l) => l.job === `${c}.0`);
  assert.ok(claimed, "no claim line");
  assert.match(String(claimed.identity), /pilot/i);
  const done = find("job completed").find((l) => l.lease === offer.leaseId);
  assert.ok(done, "no completion line");
  assert.equal(done.identity, claimed.identity);
});

test("holds, releases, removes and edits name the caller and the jobs, refusals included", async () => {
  const alice = env.client("alice");
  const c = await submit(alice, [job()]);
  const b = await submit(env.client("bob"), [job()]);
  await alice.act("hold", { ids: [`${c}.0`, `${b}.0`] }, "r");
  await alice.act("release", { ids: [`${c}.0`] });
  await alice.edit({ ids: [`${c}.0`] }, "JobPrio", "7");
  await alice.act("remove", { ids: [`${c}.0`] });

  const hold = find("act").find((l) => l.action === "hold" && l.user === "alice");
  assert.ok(hold);
  assert.deepEqual(hold.done, [`${c}.0`]);
  assert.match(String((hold.refused as string[])[0]), new RegExp(`^${b}\\.0: permission denied`));
  assert.ok(
    find("act").some((l) => l.action === "release" && (l.done as string[]).includes(`${c}.0`)),
  );
  assert.ok(
    find("act").some((l) => l.action === "remove" && (l.done as string[]).includes(`${c}.0`)),
  );
  const edit = find("edit").find((l) => l.attribute === "JobPrio");
  assert.ok(edit);
  assert.deepEqual(edit.done, [`${c}.0`]);
  assert.equal(edit.value, undefined, "an edit's value is not logged");
});

test("no log line carries key or certificate material", () => {
  const all = JSON.stringify(lines);
  assert.ok(lines.length > 0);
  assert.ok(!/PRIVATE KEY|BEGIN CERTIFICATE/.test(all));
});

test("refused heartbeats and completions are logged with the lease, the caller and why", async () => {
  await submit(env.client("alice"), [job()]);
  const offer = await env.client("pilot").claimJob(slot());
  assert.ok(offer.matched);
  await assert.rejects(env.client("pilot2").heartbeat(offer.leaseId));
  await assert.rejects(env.client("pilot2").completeJob({ leaseId: offer.leaseId }));
  await assert.rejects(env.client("pilot").heartbeat("no-such-lease"));
  const stolen = find("heartbeat refused").find((l) => l.lease === offer.leaseId);
  assert.ok(stolen, "no line for the heartbeat of another pilot");
  assert.equal(stolen.reason, "wrong-pilot");
  assert.match(String(stolen.identity), /pilot02/);
  const completion = find("completion refused").find((l) => l.lease === offer.leaseId);
  assert.equal(completion?.reason, "wrong-pilot");
  assert.ok(find("heartbeat refused").some((l) => l.lease === "no-such-lease"));
  await env.client("pilot").completeJob({ leaseId: offer.leaseId });
});
