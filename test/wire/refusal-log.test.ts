import assert from "node:assert/strict";
import { test } from "node:test";
import pino from "pino";
import { createRefusalLog, REFUSAL_LOG_PEERS_PER_CAUSE } from "../../src/wire/refusal-log.js";

function capture() {
  const lines: Record<string, unknown>[] = [];
  const logger = pino(
    { level: "info" },
    { write: (s: string) => lines.push(JSON.parse(s) as Record<string, unknown>) },
  );
  return { logger, lines };
}

test("a flood of refusals from one peer writes one line, then one that counts the rest", () => {
  const { logger, lines } = capture();
  let now = 0;
  const refusal = createRefusalLog(logger, 10_000, () => now);
  for (let i = 0; i < 1000; i++)
    refusal("no-certificate", { remote: `10.0.0.1:${40000 + i}` }, "refused");
  assert.equal(lines.length, 1, "one peer, whatever its source ports");
  refusal("no-role", { remote: "10.0.0.1:1" }, "refused"); // another cause has its own allowance
  assert.equal(lines.length, 2);
  now = 10_000;
  refusal("no-certificate", { remote: "10.0.0.1:2" }, "refused");
  assert.equal(lines.length, 3);
  assert.equal(lines[2]!.suppressed, 999);
  assert.equal(lines[2]!.cause, "no-certificate");
});

test("a noisy peer does not hide another refused for the same cause", () => {
  const { logger, lines } = capture();
  const refusal = createRefusalLog(logger, 10_000, () => 0);
  for (let i = 0; i < 500; i++) refusal("no-role", { remote: "10.0.0.66:1234" }, "refused");
  refusal("no-role", { remote: "10.0.0.7:5555" }, "refused");
  for (let i = 0; i < 500; i++) {
    refusal("too-many-calls", { identity: "/CN=noisy", method: "Query" }, "call refused");
  }
  refusal("too-many-calls", { identity: "/CN=quiet", method: "Query" }, "call refused");
  assert.deepEqual(
    lines.map((l) => l.remote ?? l.identity),
    ["10.0.0.66:1234", "10.0.0.7:5555", "/CN=noisy", "/CN=quiet"],
  );
});

test("refusals from many addresses write a bounded number of lines", () => {
  const { logger, lines } = capture();
  let now = 0;
  const refusal = createRefusalLog(logger, 10_000, () => now);
  for (let i = 0; i < 5000; i++)
    refusal("no-certificate", { remote: `10.1.${i >> 8}.${i & 255}:9` }, "x");
  assert.equal(lines.length, REFUSAL_LOG_PEERS_PER_CAUSE + 1);
  assert.equal(lines.at(-1)!.manyPeers, true);
  // Once the interval has passed, new peers get allowances of their own again.
  now = 10_000;
  refusal("no-certificate", { remote: "10.9.9.9:1" }, "x");
  assert.equal(lines.at(-1)!.remote, "10.9.9.9:1");
  assert.equal(lines.at(-1)!.manyPeers, undefined);
});
