/**
 * Whether a local pilot's process group still runs: zombies (dead, waiting for init to reap them)
 * do not count, so a pilot is not read as Running forever where init never reaps.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import {
  FILES,
  groupAlive,
  killJobGroups,
  read,
} from "../../../src/factory/adapters/local/pilot-dir.js";

const root = mkdtempSync(join(tmpdir(), "updraft-pilot-dir-"));
after(() => rmSync(root, { recursive: true, force: true }));

/** A /proc with the given "pid (comm) state ppid pgrp" lines. */
function fakeProc(entries: [pid: number, comm: string, state: string, pgrp: number][]): string {
  const dir = mkdtempSync(join(root, "proc-"));
  for (const [pid, comm, state, pgrp] of entries) {
    mkdirSync(join(dir, String(pid)));
    writeFileSync(
      join(dir, String(pid), "stat"),
      `${pid} (${comm}) ${state} 1 ${pgrp} ${pgrp} 0\n`,
    );
  }
  return dir;
}

test("a group is alive while a member is not a zombie, and not when only zombies are left", async () => {
  const child = spawn("sleep", ["30"], { detached: true, stdio: "ignore" });
  const pgid = child.pid!;
  after(() => child.kill("SIGKILL"));
  assert.equal(groupAlive(pgid), true, "the real /proc shows the sleeping member");
  assert.equal(groupAlive(pgid, fakeProc([[pgid, "sh", "Z", pgid]])), false);
  assert.equal(
    groupAlive(
      pgid,
      fakeProc([
        [pgid, "odd) name (x", "Z", pgid],
        [pgid + 1, "node", "S", pgid],
      ]),
    ),
    true,
  );
  assert.equal(groupAlive(pgid, fakeProc([[pgid + 1, "other", "S", pgid + 7]])), false);
  child.kill("SIGKILL");
  await new Promise((r) => child.once("exit", r));
  assert.equal(groupAlive(pgid), false, "kill(2) finds no group once it is reaped");
});

test("a job groups file grown past its bound is not read, and ends no group", () => {
  const dir = mkdtempSync(join(root, "pilot-"));
  writeFileSync(join(dir, FILES.jobGroups), "999999999\n".repeat(200_000));
  assert.equal(read(dir, FILES.jobGroups), undefined);
  assert.equal(killJobGroups(dir, "SIGTERM"), 0);
  rmSync(join(dir, FILES.jobGroups));
  symlinkSync("/dev/zero", join(dir, FILES.jobGroups));
  assert.equal(read(dir, FILES.jobGroups), undefined, "an endless file is read no further");
  writeFileSync(join(dir, FILES.pid), "4242\n");
  assert.equal(read(dir, FILES.pid), "4242\n");
});
