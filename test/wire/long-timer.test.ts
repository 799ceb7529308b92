/** Credential expiry timers fire for lifetimes beyond setTimeout's 24.8-day limit. */
import assert from "node:assert/strict";
import { mock, test } from "node:test";
import { setLongTimeout } from "../../src/wire/long-timer.js";

const DAY = 86_400_000;

test("a 40-day timer fires after 40 days, not at once and not at 24.8 days", () => {
  mock.timers.enable({ apis: ["setTimeout", "Date"], now: 0 });
  try {
    let fired = 0;
    setLongTimeout(() => fired++, 40 * DAY);
    mock.timers.tick(1000);
    assert.equal(fired, 0, "Node's own setTimeout would have fired at once");
    mock.timers.tick(25 * DAY);
    assert.equal(fired, 0);
    mock.timers.tick(15 * DAY);
    assert.equal(fired, 1);
  } finally {
    mock.timers.reset();
  }
});

test("a cancelled long timer never fires", () => {
  mock.timers.enable({ apis: ["setTimeout", "Date"], now: 0 });
  try {
    let fired = 0;
    const t = setLongTimeout(() => fired++, 30 * DAY);
    mock.timers.tick(26 * DAY);
    t.cancel();
    mock.timers.tick(10 * DAY);
    assert.equal(fired, 0);
  } finally {
    mock.timers.reset();
  }
});
