import assert from "node:assert/strict";
import { test } from "node:test";
import { sanitize, type SanitizePolicy } from "../../src/factory/sanitize.js";
import type { PilotRow } from "../../src/factory/store.js";
import { pilotIntent } from "./pilot-intent.js";

const NOW = 1_000_000_000;
const policy: SanitizePolicy = {
  maxReleases: 2,
  releaseBackoffMs: 1000,
  stale: () => ({ idle: 50_000, running: 100_000, held: 20_000 }),
};

function row(over: Partial<PilotRow>): PilotRow {
  return {
    id: 1,
    ...pilotIntent(),
    handle: "h",
    state: "Idle",
    waiting: false,
    holdReason: null,
    holdRecoverable: false,
    releases: 0,
    nextReleaseAt: null,
    removeReason: null,
    createdAt: NOW - 1000,
    submittedAt: NOW - 1000,
    stateChangedAt: NOW - 1000,
    finishedAt: null,
    exitCode: null,
    outcome: null,
    ...over,
  };
}

const rows: [string, Partial<PilotRow>, "release" | "remove" | "keep", RegExp?][] = [
  ["a fresh idle pilot is kept", {}, "keep"],
  [
    "an idle pilot past the idle age is removed",
    { submittedAt: NOW - 60_000 },
    "remove",
    /stale idle/,
  ],
  [
    "a running pilot within the running age is kept",
    { state: "Running", stateChangedAt: NOW - 90_000 },
    "keep",
  ],
  [
    "a running pilot past the running age is removed",
    { state: "Running", stateChangedAt: NOW - 110_000 },
    "remove",
    /stale running/,
  ],
  [
    "an unrecoverable hold is removed",
    { state: "Held", holdReason: "bad", holdRecoverable: false },
    "remove",
    /unrecoverable hold: bad/,
  ],
  [
    "a recoverable hold is released after the back-off",
    { state: "Held", holdRecoverable: true, stateChangedAt: NOW - 1000 },
    "release",
  ],
  [
    "a recoverable hold waits for the back-off",
    { state: "Held", holdRecoverable: true, stateChangedAt: NOW - 999 },
    "keep",
  ],
  [
    "the back-off doubles with each release",
    { state: "Held", holdRecoverable: true, releases: 1, stateChangedAt: NOW - 1500 },
    "keep",
  ],
  [
    "the doubled back-off passed",
    { state: "Held", holdRecoverable: true, releases: 1, stateChangedAt: NOW - 2000 },
    "release",
  ],
  [
    "held again after every release: removed",
    { state: "Held", holdRecoverable: true, releases: 2, stateChangedAt: NOW - 10_000 },
    "remove",
    /every release/,
  ],
  [
    "held past the held age: removed",
    { state: "Held", holdRecoverable: true, stateChangedAt: NOW - 30_000 },
    "remove",
    /stale held/,
  ],
  [
    "a pilot already being removed is left alone",
    { state: "Held", removeReason: "excess_idle" },
    "keep",
  ],
];

for (const [name, over, want, reason] of rows) {
  test(`sanitize: ${name}`, () => {
    const r = sanitize([row(over)], policy, NOW);
    const got = r.release.length ? "release" : r.remove.length ? "remove" : "keep";
    assert.equal(got, want);
    if (reason) assert.match(r.remove[0]!.reason, reason);
  });
}

test("a client's idle lifetime shortens the idle age for its pilots only", () => {
  const perClient: SanitizePolicy = {
    ...policy,
    stale: (_entry, client) => ({
      idle: client === "short" ? 5_000 : 50_000,
      running: 100_000,
      held: 20_000,
    }),
  };
  const waited = { state: "Idle" as const, submittedAt: NOW - 10_000 };
  const res = sanitize(
    [row({ id: 1, client: "short", ...waited }), row({ id: 2, client: "long", ...waited })],
    perClient,
    NOW,
  );
  assert.deepEqual(res.remove, [{ id: 1, reason: "stale idle" }]);
});
