import assert from "node:assert/strict";
import { test } from "node:test";
import { afterSubmit, backingOff, backoffDelayMs } from "../../src/factory/entry-backoff.js";

test("the pause doubles from 30 s up to 30 minutes", () => {
  assert.deepEqual(
    [1, 2, 3, 6, 7, 20].map(backoffDelayMs),
    [30_000, 60_000, 120_000, 960_000, 1_800_000, 1_800_000],
  );
});

test("only a cycle where everything failed counts; one success clears it; no try changes nothing", () => {
  const one = afterSubmit(undefined, { submitted: 0, failed: 3, error: "refused" }, 1000);
  assert.deepEqual(one, { failures: 1, until: 31_000, lastError: "refused" });
  assert.equal(backingOff(one, 30_999), true);
  assert.equal(backingOff(one, 31_000), false);
  assert.equal(afterSubmit(one, { submitted: 0, failed: 0 }, 40_000), one);
  assert.equal(afterSubmit(one, { submitted: 1, failed: 2 }, 40_000), undefined);
  assert.equal(afterSubmit(one, { submitted: 0, failed: 1 }, 40_000)?.failures, 2);
});
