/**
 * A pilot that brings its own Node.js, through a real Slurm: the slurm adapter submits the
 * bootstrap as a batch job on a node whose `node` is hidden (a mount namespace binding an old
 * stub over it, PATH without another); it downloads this build's install and the pinned runtime
 * from the factory's HTTPS staging server, checks both against the manifest hash on its command
 * line, and claims and runs the user's jobs from a real schedd.
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { pino } from "pino";
import { createSlurmAdapter } from "../../../src/factory/adapters/slurm/slurm-adapter.js";
import { writeInstallArchive } from "../../../src/factory/staging/install.js";
import { stageRuntimes } from "../../../src/factory/staging/runtime.js";
import { stageDirectory, startStagingServer } from "../../../src/factory/staging/staging-area.js";
import { parsePilotOutput } from "../../../src/pilot/report.js";
import { createHiddenNode, PLAIN_PATH, STUB_NODE_VERSION } from "../../helpers/hidden-node.js";
import { startSlurm } from "../../helpers/slurm-peer.js";
import { job, startEnv, submit } from "../../schedd/harness.js";
import { completedOutputs, runOnePilot } from "./pilot-world.js";

const repo = fileURLToPath(new URL("../../../../", import.meta.url));

test(
  "a staged pilot with its own Node.js runs a user's jobs under a real Slurm",
  { timeout: 240_000 },
  async (t) => {
    const env = await startEnv();
    t.after(() => env.close());
    const dir = mkdtempSync(join(tmpdir(), "updraft-slurm-runtime-"));
    t.after(() => rmSync(dir, { recursive: true, force: true }));

    const stagingDir = join(dir, "staging");
    mkdirSync(stagingDir);
    writeInstallArchive(repo, stagingDir);
    await stageRuntimes(stagingDir, { machines: ["x86_64"] });
    const area = stageDirectory(stagingDir);
    assert.equal(area.runtimes.length, 1);
    const server = await startStagingServer({
      dir: stagingDir,
      area,
      certPem: readFileSync(env.pki.host.certFile, "utf8"),
      keyPem: readFileSync(env.pki.host.keyFile, "utf8"),
      host: "127.0.0.1",
      port: 0,
    });
    t.after(() => server.close());

    const hidden = createHiddenNode(dir);
    const bootstrap = [
      "/bin/sh",
      join(repo, "src/pilot/updraft-pilot-startup.sh"),
      "--staging",
      server.url,
      "--manifest-sha256",
      area.manifestSha256,
      "--cacert",
      env.pki.caCertFile,
      "--schedd",
      env.schedd.url(),
      "--trust-dir",
      env.pki.caDir,
      "--max-idle",
      "3",
    ];
    const command = join(dir, "pilot.sh");
    // The credential comes from X509_USER_PROXY, which the adapter sets for the batch job.
    writeFileSync(
      command,
      `#!/bin/sh\nPATH=${PLAIN_PATH}\nexport PATH\nexec ${hidden.shellLine(bootstrap)}\n`,
      { mode: 0o755 },
    );

    const peer = await startSlurm();
    t.after(() => peer.stop());
    const alice = env.client("alice");
    const attrs = job({
      Cmd: '"/bin/sh"',
      TransferExecutable: "false",
      Arguments: "\"-c 'node --version > out.txt'\"",
      TransferOutput: '"out.txt"',
      RequestMemory: "64",
    });
    const cluster = await submit(alice, [attrs, attrs]);

    const a = createSlurmAdapter(
      { slurm_conf: peer.conf, cpus: 2 },
      { stateDir: join(dir, "state"), logger: pino({ level: "silent" }), now: () => Date.now() },
    );
    t.after(() => a.close());
    const out = await runOnePilot(
      a,
      { command, pilotCredential: env.pki.proxyOf(env.creds.pilot) },
      2,
    );
    assert.match(out.stderr, /using Node\.js 20\.\d+\.\d+ from the staged runtime runtime\//);
    const report = parsePilotOutput(out.stdout).report;
    assert.equal(report?.jobs.length, 2, out.stdout + out.stderr);
    // The jobs ran on the node with the old node: they see only the stub.
    const texts = await completedOutputs(alice, [`${cluster}.0`, `${cluster}.1`]);
    assert.deepEqual(texts, [`${STUB_NODE_VERSION}\n`, `${STUB_NODE_VERSION}\n`]);
  },
);
