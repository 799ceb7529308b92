/**
 * The `slurm` adapter's job arrays against a real Slurm whose finished jobs leave squeue after
 * 2 s (MinJobAge=2): one sbatch per batch, each task its own pilot through states, removal,
 * crash recovery and the lookups for forgotten jobs; and squeue read for this user's jobs only.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  chmodSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, test } from "node:test";
import { pino } from "pino";
import { createSlurmAdapter } from "../../../src/factory/adapters/slurm/slurm-adapter.js";
import type { GridAdapter, PilotSpec } from "../../../src/factory/adapters/types.js";
import { startSlurm, writeSqueueWithoutJson } from "../../helpers/slurm-peer.js";
import { waitForState } from "./conformance.js";

const peer = await startSlurm({ minJobAge: 2 });
const dirs: string[] = [];
const adapters: GridAdapter[] = [];
after(async () => {
  for (const a of adapters) await a.close();
  await peer.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), "updraft-slurm-arrays-"));
  dirs.push(d);
  return d;
}

/**
 * A folder of Slurm commands: sbatch logs each call to `calls.log`, then runs the real one; when
 * the folder holds `crash.pid`, it then kills that process (a factory dying right after sbatch
 * answered, before anything was written down). A file, not a variable: the adapter runs sbatch
 * with an emptied environment.
 */
function slurmBin(): { bin: string; sbatchCalls: () => string[] } {
  const bin = tempDir();
  const log = join(bin, "calls.log");
  writeFileSync(
    join(bin, "sbatch"),
    [
      "#!/bin/sh",
      `echo "$*" >> ${log}`,
      '/usr/bin/sbatch "$@"; rc=$?',
      `if [ -f ${bin}/crash.pid ]; then kill -9 "$(cat ${bin}/crash.pid)"; sleep 5; fi`,
      'exit "$rc"',
      "",
    ].join("\n"),
  );
  chmodSync(join(bin, "sbatch"), 0o755);
  const sbatchCalls = (): string[] =>
    existsSync(log) ? readFileSync(log, "utf8").trim().split("\n") : [];
  return { bin, sbatchCalls };
}

function adapter(stateDir: string, settings: Record<string, unknown> = {}): GridAdapter {
  const a = createSlurmAdapter(
    { slurm_conf: peer.conf, ...settings },
    { stateDir, logger: pino({ level: "silent" }), now: () => Date.now() },
  );
  adapters.push(a);
  return a;
}

/** One pilot command for the whole batch, as a factory entry has. */
function command(script: string): string {
  const file = join(tempDir(), "pilot.sh");
  writeFileSync(file, `#!/bin/sh\n${script}\n`);
  chmodSync(file, 0o755);
  return file;
}

function pilots(cmd: string, ids: number[], cpus = 1): PilotSpec[] {
  return ids.map((id) => ({
    intentId: id,
    command: cmd,
    // Quotes, spaces and '$' in each pilot's own arguments and environment.
    args: [`it's pilot ${id}`, "$HOME"],
    env: { OWN: `"value" ${id} $x` },
    resources: { cpus, memoryMb: 50, walltimeS: 300 },
  }));
}

function handles(rs: Awaited<ReturnType<GridAdapter["submit"]>>): string[] {
  return rs.map((r) => {
    assert.ok(r.ok, r.ok ? "" : r.error);
    return r.handle;
  });
}

/** This state dir's jobs in squeue as `<id> <name>`, names without the adapter's prefix. */
function ourJobs(state: string): string[] {
  const prefix = `updraft-${createHash("sha256").update(resolve(state)).digest("hex").slice(0, 10)}-`;
  return peer
    .cmd("squeue", ["-h", "-t", "all", "-o", "%i %j"])
    .split("\n")
    .filter((l) => l.includes(` ${prefix}`))
    .map((l) => l.replace(prefix, ""));
}

async function goneFromSqueue(state: string): Promise<void> {
  const end = Date.now() + 60_000;
  while (ourJobs(state).length > 0) {
    if (Date.now() > end) assert.fail(`still in squeue after 60 s: ${ourJobs(state).join(", ")}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

const exitOwn = 'echo "id=$UPDRAFT_PILOT_ID 1=$1 2=$2 own=$OWN"; exit $((UPDRAFT_PILOT_ID - 100))';

test("a batch of pilots is one job array; each task runs with its own arguments and environment to its own exit status, found again once Slurm forgot it", async () => {
  const state = tempDir();
  const { bin, sbatchCalls } = slurmBin();
  const a = adapter(state, { slurm_bin_dir: bin });
  const hs = handles(await a.submit(pilots(command(`sleep 1\n${exitOwn}`), [101, 102, 103, 104])));
  assert.equal(sbatchCalls().length, 1, sbatchCalls().join("\n"));
  assert.match(sbatchCalls()[0]!, /--array=0-3 /);
  // One array job named for the batch, its tasks each a pilot.
  const jobs = ourJobs(state);
  assert.ok(
    jobs.length > 0 && jobs.every((j) => /^\d+_(\d+|\[[\d,-]+\]) 101-[0-9a-f]{8}-array$/.test(j)),
    jobs.join(", "),
  );
  assert.equal(new Set(jobs.map((j) => j.split("_")[0])).size, 1, jobs.join(", "));

  for (const [i, h] of hs.entries()) {
    const s = await waitForState(a, h, "Finished", 60_000);
    assert.equal(s.exitCode, i + 1, h);
    const out = await a.fetchOutput(h);
    assert.equal(
      out.stdout,
      `id=${101 + i} 1=it's pilot ${101 + i} 2=$HOME own="value" ${101 + i} $x\n`,
    );
  }

  // Forgotten by squeue: each task's exit_code file, then (files gone) the jobcomp file.
  await goneFromSqueue(state);
  const s1 = await adapter(state, { jobcomp_file: "/nonexistent/jobcomp.txt" }).status(hs);
  assert.deepEqual(
    hs.map((h) => s1.get(h)?.exitCode),
    [1, 2, 3, 4],
  );
  const arrayDir = readdirSync(join(state, "pilots")).find((d) => d.endsWith("-array"))!;
  for (const t of ["0", "1", "2", "3"]) rmSync(join(state, "pilots", arrayDir, t, "exit_code"));
  const s2 = await adapter(state).status(hs);
  assert.deepEqual(
    hs.map((h) => [s2.get(h)?.state, s2.get(h)?.exitCode]),
    [
      ["Finished", 1],
      ["Finished", 2],
      ["Finished", 3],
      ["Finished", 4],
    ],
  );
  await a.purge!(hs);
  assert.deepEqual(readdirSync(join(state, "pilots")), []);
});

test("removing one task of an array leaves the others to run", async () => {
  const state = tempDir();
  const marks = tempDir();
  const a = adapter(state, { settle_s: 10 });
  // Two CPUs each: one task at a time, the others pending in the array's one record.
  const cmd = command(`touch ${marks}/$UPDRAFT_PILOT_ID\nsleep 2\n${exitOwn}`);
  const [h0, h1, h2] = handles(await a.submit(pilots(cmd, [110, 111, 112], 2)));
  await waitForState(a, h0!, "Running", 30_000);
  assert.equal((await a.status([h1!])).get(h1!)?.state, "Idle");
  assert.ok(
    ourJobs(state).some((j) => /_\[1-2\] /.test(j)),
    ourJobs(state).join(", "),
  );
  await a.remove([h1!]);
  assert.equal((await waitForState(a, h1!, "Removed")).state, "Removed");
  assert.equal((await waitForState(a, h0!, "Finished", 60_000)).exitCode, 10);
  assert.equal((await waitForState(a, h2!, "Finished", 60_000)).exitCode, 12);
  assert.equal((await a.status([h1!])).get(h1!)?.state, "Removed");
  assert.deepEqual(readdirSync(marks).sort(), ["110", "112"]);
});

test("a factory killed between sbatch and writing anything down finds every task again and submits nothing twice", async () => {
  const state = tempDir();
  const { bin, sbatchCalls } = slurmBin();
  const cmd = command(`sleep 1\n${exitOwn}`);
  const specs = pilots(cmd, [121, 122, 123]);
  // The factory is a child process that sbatch kills as soon as it has submitted.
  const adapterUrl = new URL(
    "../../../src/factory/adapters/slurm/slurm-adapter.js",
    import.meta.url,
  );
  const code = [
    `import { createSlurmAdapter } from ${JSON.stringify(adapterUrl.href)};`,
    `import { pino } from ${JSON.stringify(import.meta.resolve("pino"))};`,
    `(await import("node:fs")).writeFileSync(${JSON.stringify(join(bin, "crash.pid"))}, String(process.pid));`,
    `const a = createSlurmAdapter(${JSON.stringify({ slurm_conf: peer.conf, slurm_bin_dir: bin })},`,
    `  { stateDir: ${JSON.stringify(state)}, logger: pino({ level: "silent" }), now: () => Date.now() });`,
    `await a.submit(${JSON.stringify(specs)});`,
    'console.log("submit returned");',
  ].join("\n");
  const child = spawnSync(process.execPath, ["--input-type=module", "-e", code], {
    encoding: "utf8",
    timeout: 60_000,
  });
  assert.equal(child.signal, "SIGKILL", child.stderr);
  assert.equal(child.stdout, "");
  assert.equal(sbatchCalls().length, 1);
  // What the crashed adapter wrote before sbatch: its records, without job ids.
  const written = readdirSync(join(state, "records")).map(
    (f) => JSON.parse(readFileSync(join(state, "records", f), "utf8")) as { jobId?: string },
  );
  assert.equal(written.length, 3);
  assert.ok(written.every((r) => r.jobId === undefined));

  const b = adapter(state, { slurm_bin_dir: bin });
  const rec = await b.recover();
  assert.deepEqual(rec.map((p) => p.intentId).sort(), [121, 122, 123]);
  for (const p of rec) assert.notEqual(p.status.state, "Held", JSON.stringify(p.status));
  for (const p of rec) {
    const s = await waitForState(b, p.handle, "Finished", 60_000);
    assert.equal(s.exitCode, p.intentId - 100);
  }
  // Release, as a factory does with held pilots, finds nothing to submit again.
  await b.release!(rec.map((p) => p.handle));
  assert.equal(sbatchCalls().length, 1, sbatchCalls().join("\n"));
});

test("batches are split at max_array_size; job_arrays: false submits one job per pilot", async () => {
  const cmd = command("exit 0");
  const split = slurmBin();
  const a = adapter(tempDir(), { slurm_bin_dir: split.bin, max_array_size: 2 });
  const hs = handles(await a.submit(pilots(cmd, [131, 132, 133, 134, 135])));
  const calls = split.sbatchCalls();
  assert.deepEqual(
    calls.map((c) => /--array=(\S+)/.exec(c)?.[1] ?? "single"),
    ["0-1", "0-1", "single"],
  );
  for (const h of hs) assert.equal((await waitForState(a, h, "Finished", 60_000)).exitCode, 0);

  const off = slurmBin();
  const b = adapter(tempDir(), { slurm_bin_dir: off.bin, job_arrays: false });
  handles(await b.submit(pilots(cmd, [141, 142])));
  assert.equal(off.sbatchCalls().length, 2);
  assert.ok(off.sbatchCalls().every((c) => !c.includes("--array")));
});

test("a squeue without --json: an array's pending record gives each task its state", async () => {
  const { bin } = slurmBin();
  const calls = writeSqueueWithoutJson(bin);
  const state = tempDir();
  const a = adapter(state, { slurm_bin_dir: bin, settle_s: 10 });
  const [h0, h1, h2] = handles(
    await a.submit(pilots(command(`sleep 2\n${exitOwn}`), [150, 151, 152], 2)),
  );
  await waitForState(a, h0!, "Running", 30_000);
  assert.ok(
    ourJobs(state).some((j) => /_\[1-2\] /.test(j)),
    ourJobs(state).join(", "),
  );
  const s = await a.status([h1!, h2!]);
  assert.deepEqual([s.get(h1!)?.state, s.get(h2!)?.state], ["Idle", "Idle"]);
  for (const [i, h] of [h0!, h1!, h2!].entries()) {
    assert.equal((await waitForState(a, h, "Finished", 60_000)).exitCode, 50 + i);
  }
  assert.match(readFileSync(calls, "utf8"), /--user=\d+ --format=%i\|%T\|%r\|%j/);
});

test("another user's job with this adapter's name is not taken for one of its pilots", async () => {
  const state = tempDir();
  const prefix = `updraft-${createHash("sha256").update(resolve(state)).digest("hex").slice(0, 10)}-`;
  const theirs = spawnSync(
    "runuser",
    [
      "-u",
      "nobody",
      "--",
      "sbatch",
      "--parsable",
      `--job-name=${prefix}7-0a0b0c0d`,
      "--mem=10",
      "--chdir=/tmp",
      "-o",
      "/dev/null",
      "--wrap",
      "sleep 30",
    ],
    { env: peer.env, encoding: "utf8" },
  );
  assert.equal(theirs.status, 0, theirs.stderr);
  const id = theirs.stdout.trim();
  try {
    // Slurm lists it to everyone; the adapter asks for its own user's jobs.
    assert.match(
      peer.cmd("squeue", ["-h", "-t", "all", "-o", "%i %j %u"]),
      new RegExp(`^${id} \\S+ nobody$`, "m"),
    );
    assert.deepEqual(await adapter(state).recover(), []);
  } finally {
    peer.cmd("scancel", [id]);
  }
});
