/**
 * The local adapter ends a pilot at its walltime as a batch system ends a job at its time limit:
 * SIGTERM, then SIGKILL after the grace, and the pilot reads as Finished with the signal's status.
 * A pilot that ends in time is left alone.
 */
import assert from "node:assert/strict";
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { pino } from "pino";
import { createLocalAdapter } from "../../../src/factory/adapters/local/local-adapter.js";
import type { GridAdapter } from "../../../src/factory/adapters/types.js";
import { waitForState } from "./conformance.js";

const root = mkdtempSync(join(tmpdir(), "updraft-local-walltime-"));
const adapters: GridAdapter[] = [];
after(async () => {
  for (const a of adapters) await a.close();
  rmSync(root, { recursive: true, force: true });
});

function adapter(): GridAdapter {
  const a = createLocalAdapter(
    { slots: 4, kill_grace_s: 1, schedule_interval_s: 0.2 },
    {
      stateDir: mkdtempSync(join(root, "state-")),
      logger: pino({ level: "silent" }),
      now: Date.now,
    },
  );
  adapters.push(a);
  return a;
}

function pilot(name: string, script: string, walltimeS: number) {
  const command = join(root, `${name}.sh`);
  writeFileSync(command, `#!/bin/sh\n${script}\n`);
  chmodSync(command, 0o755);
  return {
    intentId: 1,
    command,
    args: [],
    env: {},
    resources: { cpus: 1, memoryMb: 100, walltimeS },
  };
}

test("a pilot past its walltime gets SIGTERM and reads Finished with a signal status", async () => {
  const a = adapter();
  const marker = join(root, "got-term");
  const [r] = await a.submit([
    pilot("term", `trap 'touch ${marker}; exit 0' TERM; sleep 30 & wait`, 1),
  ]);
  assert.ok(r!.ok);
  await waitForState(a, r!.handle, "Running");
  const s = await waitForState(a, r!.handle, "Finished");
  assert.ok(existsSync(marker), "the pilot was sent SIGTERM");
  // It exited 0 on the signal; a time-limit end still does not read as success.
  assert.equal(s.exitCode, 143);
});

test("a pilot that ignores SIGTERM at its walltime is killed after the grace", async () => {
  const a = adapter();
  const marker = join(root, "ignored-term");
  const [r] = await a.submit([
    pilot("kill", `trap 'touch ${marker}' TERM; while :; do sleep 0.1; done`, 1),
  ]);
  assert.ok(r!.ok);
  const s = await waitForState(a, r!.handle, "Finished");
  assert.equal(s.exitCode, 137);
  assert.ok(existsSync(marker), "SIGTERM came first");
});

test("a pilot that ends within its walltime keeps its own exit status", async () => {
  const a = adapter();
  const [r] = await a.submit([pilot("quick", "sleep 0.5; exit 3", 60)]);
  assert.ok(r!.ok);
  const s = await waitForState(a, r!.handle, "Finished");
  assert.equal(s.exitCode, 3);
});
