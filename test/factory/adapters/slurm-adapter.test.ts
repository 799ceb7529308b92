/**
 * What the `slurm` adapter does beyond the conformance suite, against a real Slurm whose
 * finished jobs leave squeue after 2 s (MinJobAge=2), so the paths for forgotten jobs run.
 */
import assert from "node:assert/strict";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { pino } from "pino";
import { createSlurmAdapter } from "../../../src/factory/adapters/slurm/slurm-adapter.js";
import type { GridAdapter, PilotSpec } from "../../../src/factory/adapters/types.js";
import { freePort } from "../../../src/pool/ports.js";
import { startSlurm, writeSqueueWithoutJson } from "../../helpers/slurm-peer.js";
import { startSshd } from "../../helpers/sshd-peer.js";
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
  const d = mkdtempSync(join(tmpdir(), "updraft-slurm-adapter-"));
  dirs.push(d);
  return d;
}

function adapter(stateDir: string, settings: Record<string, unknown> = {}): GridAdapter {
  const a = createSlurmAdapter(
    { slurm_conf: peer.conf, ...settings },
    { stateDir, logger: pino({ level: "silent" }), now: () => Date.now() },
  );
  adapters.push(a);
  return a;
}

function pilot(intentId: number, script: string, extra: Partial<PilotSpec> = {}): PilotSpec {
  const file = join(tempDir(), "pilot.sh");
  writeFileSync(file, `#!/bin/sh\n${script}\n`);
  chmodSync(file, 0o755);
  return {
    intentId,
    command: file,
    args: [],
    env: {},
    resources: { cpus: 1, memoryMb: 100, walltimeS: 300 },
    ...extra,
  };
}

function handleOf(r: { ok: boolean; handle?: string; error?: string } | undefined): string {
  assert.ok(r?.ok, r?.error);
  return r.handle!;
}

async function goneFromSqueue(handle: string): Promise<void> {
  const end = Date.now() + 60_000;
  while (peer.cmd("squeue", ["-h", "-t", "all", "-o", "%j"]).includes(handle)) {
    if (Date.now() > end) assert.fail(`${handle} still in squeue after 60 s`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

test("a job squeue has forgotten is settled from the jobcomp file, never taken for success", async () => {
  const state = tempDir();
  const a = adapter(state);
  const h = handleOf((await a.submit([pilot(1, "exit 5")]))[0]);
  await goneFromSqueue(h);
  // The pilot's own exit_code file is removed: the answer must come from Slurm's jobcomp file.
  rmSync(join(state, "pilots", h, "exit_code"));
  const fresh = adapter(state);
  const s = (await fresh.status([h])).get(h)!;
  assert.equal(s.state, "Finished");
  assert.equal(s.exitCode, 5);
});

test("without jobcomp the pilot's exit_code file settles a forgotten job; with neither it is Unknown", async () => {
  const state = tempDir();
  // Single jobs (slurm-arrays.test.ts does the same for a job array's tasks).
  const single = { jobcomp_file: "/nonexistent/jobcomp.txt", job_arrays: false };
  const a = adapter(state, single);
  const [r1, r2] = await a.submit([pilot(2, "exit 6"), pilot(3, "exit 0")]);
  const h1 = handleOf(r1);
  const h2 = handleOf(r2);
  await goneFromSqueue(h1);
  await goneFromSqueue(h2);
  rmSync(join(state, "pilots", h2, "exit_code"));
  const s = await adapter(state, single).status([h1, h2]);
  assert.deepEqual(s.get(h1), { handle: h1, state: "Finished", exitCode: 6 });
  assert.equal(s.get(h2)?.state, "Unknown", "a job nobody remembers did not succeed");
});

test("a cancelled job that left squeue reads Removed", async () => {
  const state = tempDir();
  const a = adapter(state);
  const h = handleOf((await a.submit([pilot(4, "sleep 60")]))[0]);
  await waitForState(a, h, ["Running", "Idle"]);
  await a.remove([h]);
  await goneFromSqueue(h);
  assert.equal((await adapter(state).status([h])).get(h)?.state, "Removed");
});

test("sbatch refusals are Held pilots with sbatch's reason, not recoverable", async () => {
  const badPartition = adapter(tempDir(), { partition: "nosuchpartition" });
  const h1 = handleOf((await badPartition.submit([pilot(5, "true")]))[0]);
  const s1 = (await badPartition.status([h1])).get(h1)!;
  assert.equal(s1.state, "Held");
  assert.match(s1.holdReason!, /sbatch refused the pilot: .*[Ii]nvalid partition/);
  assert.equal(s1.holdRecoverable, false);

  const gpus = adapter(tempDir(), { gpus: 1 });
  const h2 = handleOf((await gpus.submit([pilot(6, "true")]))[0]);
  const s2 = (await gpus.status([h2])).get(h2)!;
  assert.equal(s2.state, "Held");
  assert.match(s2.holdReason!, /gres|generic resource/i);
  assert.equal(s2.holdRecoverable, false);
  // Removing a pilot Slurm never accepted needs no Slurm call and ends it.
  await gpus.remove([h2]);
  assert.equal((await gpus.status([h2])).get(h2)?.state, "Removed");
});

test("a held Slurm job is Held and recoverable; released, it runs", async () => {
  const a = adapter(tempDir(), { extra_sbatch_options: ["--hold"] });
  const h = handleOf((await a.submit([pilot(7, "exit 0")]))[0]);
  const held = await waitForState(a, h, "Held");
  assert.match(held.holdReason!, /JobHeldUser/);
  assert.equal(held.holdRecoverable, true);
  await a.release!([h]);
  const done = await waitForState(a, h, "Finished", 30_000);
  assert.equal(done.exitCode, 0);
});

test("the pilot gets the allocation's CPUs and memory, its arguments and environment, a 0600 credential, and nothing of the factory's environment, SBATCH_* included", async () => {
  const state = tempDir();
  const a = adapter(state, { cpus: 2, memory_mb: 300 });
  const cred = join(tempDir(), "cred.pem");
  writeFileSync(cred, "not really a proxy\n", { mode: 0o600 });
  process.env.UPDRAFT_FACTORY_ONLY = "factory-secret";
  // sbatch reads SBATCH_* from its environment; the factory's must not change the submission.
  process.env.SBATCH_PARTITION = "no-such-partition";
  const spec = pilot(
    8,
    [
      'echo "cpus=$SLURM_CPUS_ON_NODE mem=$SLURM_MEM_PER_NODE"',
      'echo "args=$#:$1:$2"',
      'echo "foo=$FOO id=$UPDRAFT_PILOT_ID"',
      'echo "factory=${UPDRAFT_FACTORY_ONLY:-unset}"',
      'echo "credmode=$(stat -c %a "$X509_USER_PROXY") same=$([ "$X509_USER_PROXY" = "$UPDRAFT_PILOT_CREDENTIAL" ] && echo yes)"',
      'cat "$X509_USER_PROXY"',
    ].join("\n"),
    { args: ["two words", "it's $HOME"], env: { FOO: "a 'quoted' value" }, credentialFile: cred },
  );
  const h = handleOf((await a.submit([spec]))[0]);
  await waitForState(a, h, "Finished", 30_000);
  delete process.env.UPDRAFT_FACTORY_ONLY;
  delete process.env.SBATCH_PARTITION;
  const out = (await a.fetchOutput(h)).stdout;
  assert.match(out, /^cpus=2 mem=300$/m);
  assert.match(out, /^args=2:two words:it's \$HOME$/m);
  assert.match(out, /^foo=a 'quoted' value id=8$/m);
  assert.match(out, /^factory=unset$/m);
  assert.match(out, /^credmode=600 same=yes$/m);
  assert.match(out, /^not really a proxy$/m);
});

test("recover finds a job by its name when the adapter's record of it is lost", async () => {
  const state = tempDir();
  const a = adapter(state);
  const h = handleOf((await a.submit([pilot(9, "sleep 30")]))[0]);
  rmSync(join(state, "records"), { recursive: true });
  const rec = await adapter(state).recover();
  const found = rec.find((p) => p.handle === h);
  assert.ok(found, `recovered: ${JSON.stringify(rec)}`);
  assert.equal(found.intentId, 9);
  assert.ok(["Idle", "Running"].includes(found.status.state), found.status.state);
  await a.remove([h]);
  await waitForState(a, h, "Removed");
  assert.equal(existsSync(join(state, "records", `${h}.json`)), true);
});

test("a squeue without --json: states from its text format, exit statuses from the pilot's file", async () => {
  const bin = tempDir();
  const calls = writeSqueueWithoutJson(bin);
  const a = adapter(tempDir(), { slurm_bin_dir: bin, jobcomp_file: "/nonexistent/jobcomp.txt" });
  const [r1, r2] = await a.submit([pilot(10, "exit 7"), pilot(11, "sleep 30")]);
  const h1 = handleOf(r1);
  const h2 = handleOf(r2);
  const s1 = await waitForState(a, h1, "Finished", 30_000);
  assert.equal(s1.exitCode, 7);
  await waitForState(a, h2, "Running", 30_000);
  await a.remove([h2]);
  await waitForState(a, h2, "Removed");
  const log = readFileSync(calls, "utf8");
  assert.match(log, /--json/);
  assert.match(log, /--format=%i\|%T\|%r\|%j/);
});

test("a login node that cannot be reached: pilots are kept, then Held as unconfirmed, and a release submits them once", async () => {
  const port = await freePort();
  const remote = tempDir();
  const keys = tempDir();
  // The client key and known_hosts are made by the sshd helper; until it runs, nothing listens.
  const settings = (k: { identity: string; known: string }) => ({
    ssh: {
      host: "127.0.0.1",
      port,
      user: userInfo().username,
      identity_file: k.identity,
      known_hosts_file: k.known,
      remote_dir: remote,
      timeout_s: 10,
    },
  });
  const state = tempDir();
  const away = adapter(
    state,
    settings({ identity: join(keys, "none"), known: join(keys, "none") }),
  );
  const h = handleOf((await away.submit([pilot(12, "exit 0")]))[0]);
  await assert.rejects(away.status([h]), /squeue --json failed \(ssh .*127\.0\.0\.1:\d+/);

  const sshd = await startSshd({ port });
  try {
    const back = adapter(
      state,
      settings({ identity: sshd.identityFile, known: sshd.knownHostsFile }),
    );
    const held = (await back.status([h])).get(h)!;
    assert.equal(held.state, "Held");
    assert.match(held.holdReason!, /submission not confirmed/);
    assert.equal(held.holdRecoverable, true);
    await back.release!([h]);
    const done = await waitForState(back, h, "Finished", 30_000);
    assert.equal(done.exitCode, 0);
    const jobs = peer.cmd("squeue", ["-h", "-t", "all", "-o", "%j"]).split("\n");
    assert.equal(jobs.filter((j) => j.endsWith(h)).length, 1, "submitted exactly once");
    await back.close();
  } finally {
    await sshd.stop();
  }
});
