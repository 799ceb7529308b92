/**
 * `updraft frontend snapshot` and `updraft frontend run` as processes against a real collector;
 * the only schedd configured refuses connections, which must cost a timeout, not the command.
 */
import type { FrontendConfigInput } from "../../src/frontend/config.js";
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { parseSnapshot } from "../../src/frontend/snapshot.js";
import { createPool, DN, startCollector, type Pool, type Running } from "../collector/harness.js";

const root = fileURLToPath(new URL("../../../", import.meta.url));
const bin = join(root, "bin/updraft.js");
const run = promisify(execFile);

describe("frontend snapshot and run commands", () => {
  let pool: Pool;
  let collector: Running;
  let dir: string;
  let configFile: string;

  before(async () => {
    pool = createPool();
    collector = await startCollector(pool);
    dir = mkdtempSync(join(tmpdir(), "updraft-frontend-cli-"));
    writeFileSync(join(dir, "token"), "secret");
    await collector.as("factory").advertise(
      [
        {
          MyType: '"GlideFactory"',
          Name: '"ce_a@f@t"',
          FactoryName: '"f"',
          GLIDEIN_Site: '"SiteA"',
        },
        {
          MyType: '"GlideFactory"',
          Name: '"ce_b@f@t"',
          FactoryName: '"f"',
          GLIDEIN_Site: '"SiteB"',
        },
      ],
      "GlideFactory",
    );
    configFile = join(dir, "frontend.yaml");
    writeFileSync(
      configFile,
      JSON.stringify({
        name: "vo",
        collector: { url: collector.url },
        schedds: ["wss://localhost:1"],
        cycle_s: 1,
        peer_timeout_s: 0.5,
        tls: {
          cert_file: pool.creds.frontend.certFile,
          key_file: pool.creds.frontend.keyFile,
          trust_dir: pool.pki.caDir,
        },
        security: { identity: DN.frontend, credentials: [{ file: join(dir, "token") }] },
        factories: [{ name: "f", identity: DN.factory }],
        groups: [{ name: "main" }],
      } satisfies FrontendConfigInput),
    );
  });

  after(async () => {
    await collector.stop();
    pool.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it("snapshot writes the entries in the format plan reads, without the dead schedd", async () => {
    const out = join(dir, "snap.json");
    await run(process.execPath, [
      bin,
      "frontend",
      "snapshot",
      "--config",
      configFile,
      "--out",
      out,
    ]);
    const snap = parseSnapshot(readFileSync(out, "utf8"));
    assert.deepEqual(snap.factory_ads.map((a) => a.Name).sort(), ['"ce_a@f@t"', '"ce_b@f@t"']);
    assert.deepEqual(snap.autoclusters, []);
    const plan = await run(process.execPath, [
      bin,
      "frontend",
      "plan",
      "--config",
      configFile,
      "--snapshot",
      out,
    ]);
    assert.match(plan.stdout, /^group main: 0 idle jobs/m);
  });

  it("run cycles until SIGTERM and then exits cleanly", async () => {
    const child = spawn(process.execPath, [bin, "frontend", "run", "--config", configFile]);
    let stdout = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
    const deadline = Date.now() + 10_000;
    while (!stdout.includes("frontend cycle done") && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.match(stdout, /frontend cycle done/);
    child.kill("SIGTERM");
    assert.equal(await exited, 0);
    assert.match(stdout, /stopping/);
    assert.doesNotMatch(stdout, /secret/);
  });
});
