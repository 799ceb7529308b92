import assert from "node:assert/strict";
import { test } from "node:test";
import { createWakeup } from "../../src/pilot/wakeup.js";

test("a wait ended early tells its sleep to stop, so no timer outlives it", async () => {
  const signals: AbortSignal[] = [];
  const wake = createWakeup((_ms, signal) => {
    signals.push(signal!);
    return new Promise<void>((resolve) => signal!.addEventListener("abort", () => resolve()));
  });
  const waiting = wake.wait(60_000);
  assert.equal(signals[0]!.aborted, false);
  wake.now();
  await waiting;
  assert.equal(signals[0]!.aborted, true);
});

test("a wake-up that comes while nobody waits ends the next wait at once", async () => {
  let sleeps = 0;
  const wake = createWakeup(async () => {
    sleeps++;
  });
  wake.now();
  await wake.wait(60_000);
  assert.equal(sleeps, 0);
});
