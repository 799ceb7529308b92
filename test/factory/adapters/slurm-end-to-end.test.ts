/**
 * End to end through a real Slurm: the slurm adapter submits a pilot whose payload is a real
 * `updraft pilot run`; as a Slurm job it authenticates with the
 * credential the adapter copied, advertises to a real collector, claims the user's jobs from a
 * real schedd, runs them, uploads their output and ends on its idle limit.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { test } from "node:test";
import { pino } from "pino";
import type { Pool } from "../../collector/harness.js";
import { startCollector } from "../../collector/harness.js";
import { collectorConfigSchema } from "../../../src/collector/config.js";
import { createSlurmAdapter } from "../../../src/factory/adapters/slurm/slurm-adapter.js";
import { startSlurm } from "../../helpers/slurm-peer.js";
import { job, startEnv, submit } from "../../schedd/harness.js";
import { waitForState } from "./conformance.js";

// dist/test/factory/adapters -> the repository root, where bin/updraft.js is.
const repo = resolve(dirname(fileURLToPath(import.meta.url)), "../../../..");

test(
  "a real pilot under Slurm runs a user's jobs from a real schedd",
  { timeout: 150_000 },
  async (t) => {
    const env = await startEnv();
    t.after(() => env.close());
    const collector = await startCollector(
      { pki: env.pki } as Pool,
      collectorConfigSchema.parse({
        name: "collector@test",
        listen: { host: "127.0.0.1", port: 0 },
        tls: {
          cert_file: env.pki.host.certFile,
          key_file: env.pki.host.keyFile,
          trust_dir: env.pki.caDir,
        },
        authorization: { rules: [{ identity: "/DC=org/DC=example/CN=pilot*", roles: ["pilot"] }] },
      }),
    );
    t.after(() => collector.stop());
    const peer = await startSlurm();
    t.after(() => peer.stop());

    const alice = env.client("alice");
    const attrs = job({
      Cmd: '"/bin/sh"',
      Arguments: "\"-c 'echo hi from $(hostname) > out.txt'\"",
      TransferOutput: '"out.txt"',
      RequestMemory: "64",
    });
    const cluster = await submit(alice, [attrs, attrs, attrs]);
    const ids = [0, 1, 2].map((p) => `${cluster}.${p}`);

    const dir = mkdtempSync(join(tmpdir(), "updraft-slurm-e2e-"));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const command = join(dir, "pilot.sh");
    writeFileSync(
      command,
      "#!/bin/sh\nmkdir -p work\n" +
        [
          `exec ${process.execPath} ${repo}/bin/updraft.js pilot run --work-dir "$PWD/work"`,
          `  --collector ${collector.url} --schedd ${env.schedd.url()}`,
          `  --credential "$X509_USER_PROXY" --trust-dir ${env.pki.caDir}`,
          "  --max-walltime 600 --max-idle 3",
        ].join(" \\\n") +
        "\n",
      { mode: 0o755 },
    );
    const pilotCredential = env.pki.proxyOf(env.creds.pilot);
    const a = createSlurmAdapter(
      { slurm_conf: peer.conf, cpus: 2 },
      { stateDir: join(dir, "state"), logger: pino({ level: "silent" }), now: () => Date.now() },
    );
    t.after(() => a.close());
    const [r] = await a.submit([
      {
        intentId: 1,
        command,
        args: [],
        env: {},
        credentialFile: pilotCredential.file,
        resources: { cpus: 2, memoryMb: 512, walltimeS: 600 },
      },
    ]);
    assert.ok(r!.ok, r!.ok ? "" : r!.error);
    const s = await waitForState(a, r!.handle, ["Finished", "Held"], 120_000);
    const out = await a.fetchOutput(r!.handle);
    assert.equal(s.state, "Finished", `${JSON.stringify(s)}\n${out.stdout}\n${out.stderr}`);
    assert.equal(s.exitCode, 0, `${out.stdout}\n${out.stderr}`);
    assert.match(out.stdout, /=== Pilot report begin ===/);

    const jobs = await alice.query({ ids, history: true });
    assert.equal(jobs.length, 3);
    for (const j of jobs) {
      assert.equal(j.JobStatus, "4", `job ${j.ClusterId}.${j.ProcId} completed`);
    }
    for (const id of ids) {
      const chunks: Uint8Array[] = [];
      for await (const c of alice.fetchOutput(id)) chunks.push(c.data);
      assert.match(Buffer.concat(chunks).toString(), /^hi from \S+\n$/);
    }
  },
);
