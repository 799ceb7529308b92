import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import type { GridAdapter, PilotSpec, SubmitResult } from "../../src/factory/adapters/types.js";
import { FactoryStore } from "../../src/factory/store.js";
import { pilotIntent } from "./pilot-intent.js";
import { submitAll } from "../../src/factory/submitter.js";

const dir = mkdtempSync(join(tmpdir(), "updraft-submitter-"));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const store = () => new FactoryStore(join(dir, `f${n++}.db`));

function fake(submit: (b: readonly PilotSpec[]) => Promise<SubmitResult[]>): GridAdapter {
  return {
    gridtype: "fake",
    capabilities: { release: false, maxBatch: 2, output: false },
    submit,
    status: async () => new Map(),
    remove: async () => undefined,
    fetchOutput: async () => ({ stdout: "", stderr: "" }),
    recover: async () => [],
    close: async () => undefined,
  };
}

const intent = pilotIntent("fake");
const req = (count: number) => ({
  intent,
  count,
  clusterSize: 10,
  spec: (intentId: number): PilotSpec => ({
    intentId,
    command: "/bin/true",
    args: [],
    env: {},
    resources: { cpus: 1, memoryMb: 1, walltimeS: 1 },
  }),
});

test("submits in batches no larger than the adapter takes, recording each handle", async () => {
  const s = store();
  const sizes: number[] = [];
  const a = fake(async (b) => {
    sizes.push(b.length);
    return b.map((p) => ({ intentId: p.intentId, ok: true as const, handle: `h${p.intentId}` }));
  });
  const [sum] = await submitAll(s, [{ adapter: a, req: req(5) }], () => 1);
  assert.deepEqual(sum, { submitted: 5, failed: 0, lastError: undefined });
  assert.deepEqual(sizes, [2, 2, 1]);
  assert.ok(s.all().every((p) => p.state === "Idle" && p.handle === `h${p.id}`));
  s.close();
});

test("a refused submission is closed as Removed with the CE's reason", async () => {
  const s = store();
  const a = fake(async (b) =>
    b.map((p) => ({ intentId: p.intentId, ok: false as const, error: "CE said no" })),
  );
  const [sum] = await submitAll(s, [{ adapter: a, req: req(1) }], () => 1);
  assert.equal(sum!.failed, 1);
  assert.equal(sum!.lastError, "CE said no");
  const [p] = s.all();
  assert.equal(p!.state, "Removed");
  assert.equal(p!.holdReason, "CE said no");
  s.close();
});

test("an adapter that fails without an answer leaves the intents for reconcile", async () => {
  const s = store();
  const a = fake(async () => {
    throw new Error("connection reset");
  });
  const [sum] = await submitAll(s, [{ adapter: a, req: req(3) }], () => 1);
  assert.equal(sum!.submitted, 0);
  assert.equal(sum!.failed, 3);
  assert.ok(s.all().every((p) => p.state === "Unsubmitted"));
  s.close();
});
