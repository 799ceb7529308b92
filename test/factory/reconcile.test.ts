import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { pino } from "pino";
import type { GridAdapter, RecoveredPilot } from "../../src/factory/adapters/types.js";
import { reconcile } from "../../src/factory/reconcile.js";
import { FactoryStore } from "../../src/factory/store.js";
import { pilotIntent } from "./pilot-intent.js";

const dir = mkdtempSync(join(tmpdir(), "updraft-reconcile-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function fake(listing: RecoveredPilot[], removed: string[]): GridAdapter {
  return {
    gridtype: "fake",
    capabilities: { release: false, maxBatch: 10, output: false },
    submit: async () => [],
    status: async () => new Map(),
    remove: async (hs) => void removed.push(...hs),
    fetchOutput: async () => ({ stdout: "", stderr: "" }),
    recover: async () => listing,
    close: async () => undefined,
  };
}

test("reconcile attaches, closes, loses and removes orphans, each exactly once", async () => {
  const store = new FactoryStore(join(dir, "f.db"));
  const intent = pilotIntent("fake");
  const [attached, never, tracked, vanished] = store.recordIntents(
    [intent, intent, intent, intent],
    1,
  );
  store.recordSubmitted(
    [
      { id: tracked!, handle: "h-tracked" },
      { id: vanished!, handle: "h-vanished" },
    ],
    2,
  );
  const removed: string[] = [];
  const adapter = fake(
    [
      {
        intentId: attached!,
        handle: "h-attached",
        status: { handle: "h-attached", state: "Running" },
      },
      { intentId: tracked!, handle: "h-tracked", status: { handle: "h-tracked", state: "Idle" } },
      { intentId: 999, handle: "h-orphan", status: { handle: "h-orphan", state: "Idle" } },
    ],
    removed,
  );
  const sum = await reconcile(store, new Map([["e", adapter]]), () => 3, pino({ level: "silent" }));
  assert.deepEqual(sum, { attached: 1, neverSubmitted: 1, lost: 1, orphansRemoved: 1 });
  assert.equal(store.get(attached!)?.handle, "h-attached");
  assert.equal(store.get(attached!)?.state, "Running");
  assert.equal(store.get(never!)?.state, "Removed");
  assert.equal(store.get(tracked!)?.state, "Idle");
  assert.equal(store.get(vanished!)?.state, "Lost");
  assert.deepEqual(removed, ["h-orphan"]);
  // A second run finds no intent left to settle.
  const again = await reconcile(
    store,
    new Map([["e", fake([], [])]]),
    () => 4,
    pino({ level: "silent" }),
  );
  assert.equal(again.attached + again.neverSubmitted, 0);
  store.close();
});
