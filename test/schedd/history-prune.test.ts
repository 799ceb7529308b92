/** Finished jobs stay in history for history_s, then go (real schedd, real SQLite). */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { job, startEnv, submit, type TestEnv } from "./harness.js";

let env: TestEnv;
before(async () => {
  env = await startEnv({ extra: { history_s: 86_400 } });
});
after(() => env.close());

test("history keeps finished jobs for history_s", async () => {
  const alice = env.client("alice");
  const old = await submit(alice, [job()]);
  await alice.act("remove", { ids: [String(old)] });
  env.clock.advance(20 * 3_600_000);
  const recent = await submit(alice, [job()]);
  await alice.act("remove", { ids: [String(recent)] });
  env.schedd.tick();
  const ids = async () =>
    (await alice.query({ constraint: "true", history: true })).map((a) => a.ClusterId).sort();
  assert.deepEqual(await ids(), [String(old), String(recent)]);
  env.clock.advance(5 * 3_600_000);
  env.schedd.tick();
  assert.deepEqual(await ids(), [String(recent)], "the day-old job is gone, the other kept");
});
