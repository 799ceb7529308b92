import assert from "node:assert/strict";
import { getEventListeners } from "node:events";
import { test } from "node:test";
import { abortableSleep } from "../../src/common/clock.js";

// Each wait is an hour unless the signal ends it: a test that hangs is the failure.
const HOUR_MS = 3_600_000;

test("a sleep given an aborted signal returns at once and leaves no listener", async () => {
  const c = new AbortController();
  c.abort();
  await abortableSleep(HOUR_MS, c.signal);
  assert.equal(getEventListeners(c.signal, "abort").length, 0);
});

test("aborting ends a sleep early", async () => {
  const c = new AbortController();
  const slept = abortableSleep(HOUR_MS, c.signal);
  assert.equal(getEventListeners(c.signal, "abort").length, 1);
  c.abort();
  await slept;
  assert.equal(getEventListeners(c.signal, "abort").length, 0);
});

test("sleeps that run out take their listeners with them", async () => {
  const c = new AbortController();
  for (let i = 0; i < 20; i++) await abortableSleep(1, c.signal);
  assert.equal(getEventListeners(c.signal, "abort").length, 0);
});
