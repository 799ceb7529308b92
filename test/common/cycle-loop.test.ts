/**
 * The shared cycle loop of the factory and the frontend: cycles never overlap, stop waits for the
 * cycle in flight and schedules nothing after it, a failed cycle is reported and the next still
 * runs.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { createCycleLoop } from "../../src/common/cycle-loop.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A cycle that records how many run at once and takes `ms` to finish. */
function countingCycle(ms: number) {
  const state = { running: 0, maxRunning: 0, started: 0, ended: 0 };
  const cycle = async () => {
    state.started++;
    state.running++;
    state.maxRunning = Math.max(state.maxRunning, state.running);
    await sleep(ms);
    state.running--;
    state.ended++;
    return state.started;
  };
  return { state, cycle };
}

/** A cycle failure no test here expects: fail the run loudly. */
function unexpected(err: unknown): void {
  process.nextTick(() => assert.fail(`unexpected cycle failure: ${String(err)}`));
}

async function until(what: string, ok: () => boolean): Promise<void> {
  const end = Date.now() + 20_000;
  while (!ok()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

test("cycles asked for while one runs wait for it: never two at once", async () => {
  const { state, cycle } = countingCycle(30);
  const loop = createCycleLoop({ cycle, intervalMs: () => 10, onError: unexpected });
  const first = loop.start();
  const asked = await Promise.all([loop.runNow(), loop.runNow(), loop.runNow()]);
  await first;
  await until("a scheduled cycle after the asked ones", () => state.started >= 5);
  await loop.stop();
  assert.equal(state.maxRunning, 1);
  assert.equal(new Set(asked).size, 3, "each runNow ran its own cycle");
});

test("stop waits for the cycle in flight and no cycle starts after it", async () => {
  const { state, cycle } = countingCycle(80);
  const loop = createCycleLoop({ cycle, intervalMs: () => 5, onError: unexpected });
  void loop.start();
  await until("the first cycle to start", () => state.started === 1);
  await loop.stop();
  assert.equal(state.ended, 1, "stop resolved before the cycle in flight ended");
  assert.equal(state.running, 0);
  await sleep(60);
  assert.equal(state.started, 1, "a cycle started after stop");
});

test("stop between cycles cancels the scheduled one", async () => {
  const { state, cycle } = countingCycle(1);
  const loop = createCycleLoop({ cycle, intervalMs: () => 50, onError: unexpected });
  await loop.start();
  assert.equal(state.ended, 1);
  await loop.stop();
  await sleep(120);
  assert.equal(state.started, 1);
});

test("a failed cycle is reported and the next cycle still runs", async () => {
  let n = 0;
  const errors: unknown[] = [];
  const loop = createCycleLoop({
    cycle: async () => {
      n++;
      if (n === 1) throw new Error("first cycle fails");
      return n;
    },
    intervalMs: () => 5,
    onError: (err) => errors.push(err),
  });
  await loop.start();
  await until("two more cycles", () => n >= 3);
  await loop.stop();
  assert.equal(errors.length, 1);
  assert.match(String(errors[0]), /first cycle fails/);
});

test("a cycle that throws before its first await is reported the same way", async () => {
  const errors: unknown[] = [];
  const loop = createCycleLoop<number>({
    cycle: () => {
      throw new Error("synchronous failure");
    },
    intervalMs: () => 1000,
    onError: (err) => errors.push(err),
  });
  await loop.start();
  await loop.stop();
  assert.equal(errors.length, 1);
  await assert.rejects(loop.runNow(), /synchronous failure/);
});

test("the interval is read before each pause, so a changed setting takes effect", async () => {
  const starts: number[] = [];
  let interval = 5;
  const loop = createCycleLoop({
    cycle: async () => void starts.push(Date.now()),
    intervalMs: () => interval,
    onError: unexpected,
  });
  await loop.start();
  interval = 100_000;
  await until("the second cycle", () => starts.length >= 2);
  await sleep(50);
  await loop.stop();
  assert.equal(starts.length, 2, "the long interval was not used after the change");
});

test("a wake between cycles runs the next cycle now instead of after the interval", async () => {
  const { state, cycle } = countingCycle(1);
  const loop = createCycleLoop({ cycle, intervalMs: () => 3_600_000, onError: unexpected });
  await loop.start();
  assert.equal(state.ended, 1);
  loop.wake();
  await until("the woken cycle", () => state.ended === 2);
  await sleep(30);
  await loop.stop();
  assert.equal(state.started, 2, "one wake, one cycle; then the long interval again");
});

test("wakes during a cycle collapse into one cycle right after it", async () => {
  const { state, cycle } = countingCycle(40);
  const loop = createCycleLoop({ cycle, intervalMs: () => 3_600_000, onError: unexpected });
  void loop.start();
  await until("the first cycle to start", () => state.started === 1);
  loop.wake();
  loop.wake();
  loop.wake();
  await until("the cycle after the wakes", () => state.ended === 2);
  await sleep(60);
  await loop.stop();
  assert.equal(state.started, 2);
  assert.equal(state.maxRunning, 1);
});

test("a wake after stop starts nothing", async () => {
  const { state, cycle } = countingCycle(1);
  const loop = createCycleLoop({ cycle, intervalMs: () => 3_600_000, onError: unexpected });
  await loop.start();
  await loop.stop();
  loop.wake();
  await sleep(30);
  assert.equal(state.started, 1);
});
