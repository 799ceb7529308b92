/** The generated OnExitRemove, evaluated as the schedd will when a job exits. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { ClassAd } from "../../../src/classad/index.js";
import { jobOf } from "./helpers.js";

function leavesQueue(
  lines: string,
  exit: { ExitCode: number; NumJobCompletions: number },
): unknown {
  const ad = ClassAd.fromJSON(jobOf(`executable = run.sh\n${lines}\nqueue\n`).toRecord());
  ad.set("ExitCode", String(exit.ExitCode));
  ad.set("NumJobCompletions", String(exit.NumJobCompletions));
  ad.set("ExitBySignal", "false");
  return ad.evaluate("OnExitRemove");
}

test("max_retries = 2: a failure stays queued until the third completion", () => {
  assert.equal(leavesQueue("max_retries = 2", { ExitCode: 1, NumJobCompletions: 1 }), false);
  assert.equal(leavesQueue("max_retries = 2", { ExitCode: 1, NumJobCompletions: 2 }), false);
  assert.equal(leavesQueue("max_retries = 2", { ExitCode: 1, NumJobCompletions: 3 }), true);
});

test("max_retries: success leaves the queue at once", () => {
  assert.equal(leavesQueue("max_retries = 2", { ExitCode: 0, NumJobCompletions: 1 }), true);
});

test("retry_until stops retrying on its exit code", () => {
  const lines = "max_retries = 5\nretry_until = 17";
  assert.equal(leavesQueue(lines, { ExitCode: 17, NumJobCompletions: 1 }), true);
  assert.equal(leavesQueue(lines, { ExitCode: 3, NumJobCompletions: 1 }), false);
});

test("without retries a job leaves the queue on any exit", () => {
  assert.equal(leavesQueue("", { ExitCode: 1, NumJobCompletions: 1 }), true);
});
