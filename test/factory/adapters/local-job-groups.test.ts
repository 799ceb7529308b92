/**
 * A local pilot's jobs run in process groups of their own; the pilot lists them in
 * UPDRAFT_JOB_GROUPS_FILE and the adapter ends them with the pilot, as a batch system's cgroup
 * would, both when the pilot is removed and when it dies on its own.
 */
import assert from "node:assert/strict";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { pino } from "pino";
import { createLocalAdapter } from "../../../src/factory/adapters/local/local-adapter.js";
import { waitForState } from "./conformance.js";

const root = mkdtempSync(join(tmpdir(), "updraft-local-groups-"));
after(() => rmSync(root, { recursive: true, force: true }));

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function gone(pid: number): Promise<boolean> {
  for (let i = 0; i < 100 && alive(pid); i++) await new Promise((r) => setTimeout(r, 50));
  return !alive(pid);
}

/** A "pilot" that starts one job in a session of its own, lists it, and then `how`. */
function pilot(name: string, how: string): string {
  const file = join(root, `${name}.sh`);
  const jobPid = join(root, `${name}.job`);
  writeFileSync(
    file,
    `#!/bin/sh\nsetsid sleep 300 & echo $! > "$UPDRAFT_JOB_GROUPS_FILE"; echo $! > ${jobPid}\n${how}\n`,
  );
  chmodSync(file, 0o755);
  return file;
}

const jobOf = async (name: string) => {
  for (let i = 0; i < 100; i++) {
    try {
      const n = Number(readFileSync(join(root, `${name}.job`), "utf8"));
      if (n > 0) return n;
    } catch {
      // not written yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${name}: the job never started`);
};

const adapter = () =>
  createLocalAdapter(
    { slots: 4, kill_grace_s: 0 },
    {
      stateDir: mkdtempSync(join(root, "state-")),
      logger: pino({ level: "silent" }),
      now: Date.now,
    },
  );
const spec = (intentId: number, command: string) => ({
  intentId,
  command,
  args: [],
  env: {},
  resources: { cpus: 1, memoryMb: 100, walltimeS: 60 },
});

test("removing a pilot ends the jobs it listed", async () => {
  const a = adapter();
  const [r] = await a.submit([spec(1, pilot("removed", "trap '' TERM; wait"))]);
  assert.ok(r?.ok);
  await waitForState(a, r.handle, "Running");
  const job = await jobOf("removed");
  assert.ok(alive(job));
  await a.remove([r.handle]);
  await waitForState(a, r.handle, "Removed");
  assert.ok(await gone(job), "the job's own process group ended with the pilot");
  await a.close();
});

test("a pilot that dies on its own leaves no job running", async () => {
  const a = adapter();
  const [r] = await a.submit([spec(2, pilot("crashed", "kill -9 $$"))]);
  assert.ok(r?.ok);
  const job = await jobOf("crashed");
  await waitForState(a, r.handle, "Finished");
  await a.status([r.handle]);
  assert.ok(await gone(job), "the orphaned job was ended when the pilot was seen gone");
  await a.close();
});
