import assert from "node:assert/strict";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { systemClock } from "../../src/common/clock.js";
import { planLifetime } from "../../src/pilot/lifetime.js";
import { runPilot } from "../../src/pilot/run-pilot.js";
import { createSandboxStore } from "../../src/pilot/sandbox-reuse.js";
import {
  InMemoryAdvertiserDouble,
  InMemoryJobSourceDouble,
} from "./doubles/in-memory-job-source.js";

const root = mkdtempSync(join(tmpdir(), "updraft-sandbox-reuse-"));
after(() => rmSync(root, { recursive: true, force: true }));

/** A sandbox as a finished job leaves it: files, folders, and its tmp with things in it. */
function leftByJob(dir: string): void {
  mkdirSync(join(dir, "tmp"), { recursive: true });
  mkdirSync(join(dir, "out", "deeper"), { recursive: true });
  writeFileSync(join(dir, "result.txt"), "result");
  writeFileSync(join(dir, "out", "deeper", "x"), "x");
  writeFileSync(join(dir, "tmp", "scratch"), "scratch");
  mkdirSync(join(dir, "tmp", "cache"));
  writeFileSync(join(dir, "tmp", "cache", "y"), "y");
}

const listing = (dir: string) => readdirSync(dir).sort();

test("a finished job's sandbox, emptied to an empty tmp, becomes the next job's", async () => {
  const execute = mkdtempSync(join(root, "execute-"));
  const store = createSandboxStore(2);
  const first = join(execute, "dir_1");
  store.make(first);
  const mode = statSync(first).mode;
  const inode = statSync(first).ino;
  leftByJob(first);
  await store.release(first);
  assert.equal(existsSync(first), false);
  const second = join(execute, "dir_2");
  store.make(second);
  assert.equal(statSync(second).ino, inode, "the same folder, renamed");
  assert.equal(statSync(second).mode, mode);
  assert.deepEqual(listing(second), ["tmp"]);
  assert.deepEqual(listing(join(second, "tmp")), []);
  assert.deepEqual(listing(execute), ["dir_2"]);
});

test("a tmp the job made a link is removed, never followed, and the sandbox is not used again", async () => {
  const execute = mkdtempSync(join(root, "execute-"));
  const outside = mkdtempSync(join(root, "outside-"));
  writeFileSync(join(outside, "precious"), "keep me");
  const store = createSandboxStore(2);
  const dir = join(execute, "dir_1");
  store.make(dir);
  writeFileSync(join(dir, "result.txt"), "result");
  symlinkSync(outside, join(dir, "tmp"));
  await store.release(dir);
  assert.equal(readFileSync(join(outside, "precious"), "utf8"), "keep me");
  assert.deepEqual(listing(execute), []);
  const next = join(execute, "dir_2");
  store.make(next);
  // A new folder: a used one would hold an empty tmp.
  assert.deepEqual(listing(next), []);
});

test("a sandbox whose mode the job changed is removed, not used again", async () => {
  const execute = mkdtempSync(join(root, "execute-"));
  const store = createSandboxStore(2);
  const dir = join(execute, "dir_1");
  store.make(dir);
  const mode = statSync(dir).mode & 0o777;
  leftByJob(dir);
  chmodSync(dir, mode ^ 0o005);
  await store.release(dir);
  assert.deepEqual(listing(execute), []);
  // Nor one whose tmp the job changed.
  const other = join(execute, "dir_2");
  store.make(other);
  leftByJob(other);
  chmodSync(join(other, "tmp"), mode ^ 0o005);
  await store.release(other);
  assert.deepEqual(listing(execute), []);
});

test("at most maxSpares sandboxes are kept; the rest are removed, and drain removes the spares", async () => {
  const execute = mkdtempSync(join(root, "execute-"));
  const store = createSandboxStore(1);
  const dirs = [1, 2, 3].map((n) => join(execute, `dir_${n}`));
  for (const d of dirs) {
    store.make(d);
    leftByJob(d);
  }
  await Promise.all(dirs.map((d) => store.release(d)));
  const kept = listing(execute);
  assert.equal(kept.length, 1);
  assert.match(kept[0]!, /^spare_\d+$/);
  await store.drain();
  assert.deepEqual(listing(execute), []);
});

test("real pilot: a job in a used-again sandbox sees what a job in a new one sees, and nothing is left", async () => {
  const source = new InMemoryJobSourceDouble();
  const seen = mkdtempSync(join(root, "seen-"));
  for (let i = 1; i <= 3; i++) {
    // What the job sees of its sandbox, then what it leaves behind for the next one.
    // The second job runs long enough for the first one's sandbox to be emptied meanwhile.
    const script =
      `sleep ${i === 2 ? 2 : 0}; ls -A . tmp > ${seen}/list-${i}; stat -c %i . > ${seen}/inode-${i}; ` +
      `echo mine > left-${i}; mkdir -p out/deep; echo x > out/deep/x; echo t > tmp/t-${i}`;
    source.submit(
      `[ Cmd = "/bin/sh"; TransferExecutable = false; Arguments = "-c '${script}'"; ` +
        "RequestCpus = 1; RequestMemory = 50; Requirements = true ]",
    );
  }
  const workDir = mkdtempSync(join(root, "real-"));
  const r = await runPilot({
    clock: systemClock,
    plan: planLifetime({ maxWalltimeS: 60, maxIdleS: 0.5, graceS: 5 }, Date.now(), () => 0),
    identity: { pilotId: "p1", host: "wn01" },
    resources: { cpus: 1, memoryMb: 1000, diskKb: 1000, gpus: 0 },
    nodeAttrs: { OpSys: "LINUX", OpSysAndVer: "AlmaLinux9", Arch: "X86_64" },
    published: {},
    workDir,
    sources: [source],
    advertiser: new InMemoryAdvertiserDouble(),
    claimRetryMs: 50,
    runnerOptions: { pollMs: 50 },
  });
  assert.deepEqual(
    r.jobs.map((j) => [j.disposition, j.exitCode]),
    Array(3).fill(["completed", 0]),
  );
  const read = (name: string) => readFileSync(join(seen, name), "utf8");
  assert.equal(read("list-2"), read("list-1"));
  assert.equal(read("list-3"), read("list-1"));
  assert.doesNotMatch(read("list-1"), /left-|t-\d|^out$/m);
  // One slot, one job at a time: the second job is claimed while the first one's sandbox is
  // still being emptied, and the third gets it.
  assert.equal(read("inode-3"), read("inode-1"));
  assert.deepEqual(listing(join(workDir, "execute")), []);
});
