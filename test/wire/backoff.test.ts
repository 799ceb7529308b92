import assert from "node:assert/strict";
import { test } from "node:test";
import { backoffCeiling, backoffDelay, DEFAULT_BACKOFF } from "../../src/wire/backoff.js";

const opts = { initialMs: 100, maxMs: 5_000, factor: 2, minMs: 10 };

test("the ceiling grows exponentially up to the maximum", () => {
  assert.deepEqual(
    [0, 1, 2, 3, 10, 1000].map((a) => backoffCeiling(a, opts)),
    [100, 200, 400, 800, 5_000, 5_000],
  );
});

test("the delay is a uniform pick under the ceiling, never below the minimum", () => {
  assert.equal(
    backoffDelay(3, () => 0.5, opts),
    400,
  );
  assert.equal(
    backoffDelay(3, () => 0.999999, opts),
    799,
  );
  assert.equal(
    backoffDelay(3, () => 0, opts),
    10,
  );
  assert.equal(
    backoffDelay(50, () => 0.5, opts),
    2_500,
  );
});

test("jitter spreads clients out", () => {
  const delays = new Set(Array.from({ length: 100 }, () => backoffDelay(5)));
  assert.ok(delays.size > 50, `only ${delays.size} distinct delays`);
  for (const d of delays) assert.ok(d >= DEFAULT_BACKOFF.minMs && d <= DEFAULT_BACKOFF.maxMs);
});

test("huge attempt counts stay finite", () => {
  assert.equal(backoffCeiling(1e9, opts), 5_000);
  assert.equal(backoffCeiling(-3, opts), 100);
});
