import assert from "node:assert/strict";
import { test } from "node:test";
import pino from "pino";
import { createRefusalLog } from "../../src/wire/refusal-log.js";

function capture() {
  const lines: Record<string, unknown>[] = [];
  const logger = pino(
    { level: "info" },
    { write: (s: string) => lines.push(JSON.parse(s) as Record<string, unknown>) },
  );
  return { logger, lines };
}

test("a flood of refusals of one cause writes one line, then one that counts the rest", () => {
  const { logger, lines } = capture();
  let now = 0;
  const refusal = createRefusalLog(logger, 10_000, () => now);
  for (let i = 0; i < 1000; i++)
    refusal("no-certificate", { remote: `10.0.0.${i % 250}` }, "refused");
  assert.equal(lines.length, 1);
  refusal("no-role", {}, "refused"); // another cause has its own allowance
  assert.equal(lines.length, 2);
  now = 10_000;
  refusal("no-certificate", {}, "refused");
  assert.equal(lines.length, 3);
  assert.equal(lines[2]!.suppressed, 999);
  assert.equal(lines[2]!.cause, "no-certificate");
});
