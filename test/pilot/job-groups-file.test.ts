import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { systemClock } from "../../src/common/clock.js";
import { createJobGroupsFile } from "../../src/pilot/job-groups-file.js";
import { planLifetime } from "../../src/pilot/lifetime.js";
import { runPilot } from "../../src/pilot/run-pilot.js";
import {
  InMemoryAdvertiserDouble,
  InMemoryJobSourceDouble,
} from "./doubles/in-memory-job-source.js";

const root = mkdtempSync(join(tmpdir(), "updraft-job-groups-"));
after(() => rmSync(root, { recursive: true, force: true }));

const read = (file: string) => (existsSync(file) ? readFileSync(file, "utf8") : undefined);
const groupsIn = (file: string) => (read(file) ?? "").split("\n").filter(Boolean).map(Number);

test("a start is listed at once; ends are written out only at the next flush", () => {
  const file = join(root, "unit-groups");
  const errors: unknown[] = [];
  const groups = createJobGroupsFile(file, (e) => errors.push(e));
  groups.started(101);
  groups.started(102);
  assert.equal(read(file), "101\n102\n");
  assert.equal(statSync(file).mode & 0o777, 0o600);
  // Nothing ended: a flush leaves the file alone (here: a file removed stays removed).
  rmSync(file);
  groups.flush(() => [101, 102]);
  assert.equal(read(file), undefined);
  groups.started(103);
  groups.ended();
  groups.ended();
  groups.flush(() => [103]);
  assert.equal(read(file), "103\n");
  // One rewrite per batch of ends.
  writeFileSync(file, "stale\n");
  groups.flush(() => []);
  assert.equal(read(file), "stale\n");
  groups.started(undefined);
  assert.equal(read(file), "stale\n");
  assert.deepEqual(errors, []);
});

test("a write that fails is reported and the pilot goes on", () => {
  const errors: unknown[] = [];
  const groups = createJobGroupsFile(join(root, "no-such-dir", "groups"), (e) => errors.push(e));
  groups.started(5);
  groups.ended();
  groups.flush(() => []);
  assert.equal(errors.length, 2);
});

test("no file named: nothing is written", () => {
  const groups = createJobGroupsFile(undefined, () => assert.fail("no write expected"));
  groups.started(5);
  groups.ended();
  groups.flush(() => [5]);
});

test("real pilot: running jobs' groups are listed while they run and gone when they end", async () => {
  const source = new InMemoryJobSourceDouble();
  for (let i = 0; i < 4; i++) {
    source.submit(
      '[ Cmd = "/bin/sleep"; TransferExecutable = false; Arguments = "0.6"; ' +
        "RequestCpus = 1; RequestMemory = 50; Requirements = true ]",
    );
  }
  const workDir = mkdtempSync(join(root, "real-"));
  const file = join(workDir, "job-groups");
  // Every group seen listed, and whether it was ever seen as a live process group.
  const seen = new Map<number, boolean>();
  let watching = true;
  const watch = (async () => {
    while (watching) {
      for (const g of groupsIn(file)) {
        if (seen.get(g)) continue;
        let alive = true;
        try {
          process.kill(-g, 0);
        } catch {
          alive = false;
        }
        seen.set(g, alive);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  const r = await runPilot({
    clock: systemClock,
    plan: planLifetime({ maxWalltimeS: 120, maxIdleS: 0.5, graceS: 5 }, Date.now(), () => 0),
    identity: { pilotId: "p3", host: "wn03" },
    resources: { cpus: 2, memoryMb: 1000, diskKb: 1000, gpus: 0 },
    nodeAttrs: { OpSys: "LINUX", Arch: "X86_64" },
    published: {},
    workDir,
    sources: [source],
    advertiser: new InMemoryAdvertiserDouble(),
    claimRetryMs: 50,
    runnerOptions: { pollMs: 1000 },
    jobGroupsFile: file,
  });
  watching = false;
  await watch;
  assert.deepEqual(
    r.jobs.map((j) => [j.disposition, j.exitCode]),
    Array(4).fill(["completed", 0]),
  );
  // Each job's group was listed while it ran (the watcher saw it alive at least once), and the
  // list is empty once the pilot is done.
  assert.equal(seen.size, 4, `groups seen: ${[...seen.keys()].join(", ")}`);
  assert.ok([...seen.values()].every(Boolean), "every listed group was running when seen");
  assert.deepEqual(groupsIn(file), []);
});
