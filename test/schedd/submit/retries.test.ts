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

test("on_exit_hold_reason, on_exit_hold_subcode and periodic_hold_reason set their attributes", () => {
  const ad = ClassAd.fromJSON(
    jobOf(
      [
        "executable = run.sh",
        "on_exit_hold = ExitCode =!= 0",
        'on_exit_hold_reason = strcat("exit code ", ExitCode)',
        "on_exit_hold_subcode = 42",
        "periodic_hold = JobStatus == 2 && time() - EnteredCurrentStatus > 3600",
        'periodic_hold_reason = "ran over an hour"',
        "periodic_hold_subcode = 7",
        "queue",
      ].join("\n"),
    ).toRecord(),
  );
  ad.set("ExitCode", "3");
  assert.equal(ad.evaluate("OnExitHoldReason"), "exit code 3");
  assert.equal(ad.evaluate("OnExitHoldSubCode"), 42);
  assert.equal(ad.evaluate("PeriodicHoldReason"), "ran over an hour");
  assert.equal(ad.evaluate("PeriodicHoldSubCode"), 7);
});
