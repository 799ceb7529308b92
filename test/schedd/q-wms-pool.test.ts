/**
 * `updraft q -better-analyze` with two real collectors, as a glideinWMS VO runs them: the pool's
 * (pilots' Slot ads) and the WMS collector (factories' GlideFactory and frontends' GlideResource
 * ads). The entries that would start pilots for the job are found there with `-wms-pool` or
 * `UPDRAFT_WMS_POOL`, and not in the pool's collector, which holds none.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { after, test } from "node:test";
import { createScheddDaemon } from "../../src/schedd/daemon.js";
import { scheddClient } from "../../src/schedd/client.js";
import { createRpcClient } from "../../src/wire/index.js";
import { createPool, slotAd, startCollector } from "../collector/harness.js";
import { job, scheddConfig } from "./harness.js";

const ALICE = "/DC=org/DC=example/CN=Alice";
const bin = fileURLToPath(new URL("../../../bin/updraft.js", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "updraft-q-wms-"));
const pool = createPool();
after(() => {
  pool.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

async function q(env: Record<string, string>, args: string[]) {
  try {
    const r = await promisify(execFile)(process.execPath, [bin, "q", ...args], {
      env: {
        PATH: process.env.PATH,
        HOME: dir,
        UPDRAFT_CONFIG: join(dir, "no-such-client.yaml"),
        X509_CERT_DIR: pool.pki.caDir,
        X509_USER_PROXY: pool.pki.proxy.file,
        ...env,
      },
    });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const entry = (name: string, site: string) => ({
  MyType: '"GlideFactory"',
  Name: `"${name}@gf"`,
  EntryName: `"${name}"`,
  FactoryName: '"gf"',
  GLIDEIN_CMSSite: `"${site}"`,
  GLIDEIN_In_Downtime: "false",
});
const resource = (entryName: string) => ({
  MyType: '"GlideResource"',
  Name: `"${entryName}@gf@fe.main"`,
  GlideClientName: '"fe.main"',
  GlideFactoryEntry: `"${entryName}@gf"`,
  GlideClientMatchExpr: JSON.stringify(
    "stringListMember(TARGET.GLIDEIN_CMSSite, MY.DESIRED_Sites)",
  ),
});

test("q -better-analyze reads the entries at the WMS collector when it is not the pool's", async () => {
  const readers = pool.config().authorization.rules.concat([{ identity: ALICE, roles: ["read"] }]);
  const config = pool.config({ authorization: { rules: readers } });
  const userPool = await startCollector(pool, config);
  const wms = await startCollector(pool, config);
  const schedd = createScheddDaemon(scheddConfig(pool.pki, join(dir, "schedd")));
  try {
    await schedd.start();
    const slots = await userPool.as("pilot").advertise([slotAd(1)], "Slot");
    assert.ok(slots.every((o) => o.ok));
    const factories = await wms
      .as("factory")
      .advertise(
        [entry("CMS_T2_US_Nebraska", "T2_US_Nebraska"), entry("CMS_T2_DE_DESY", "T2_DE_DESY")],
        "GlideFactory",
      );
    const resources = await wms
      .as("frontend")
      .advertise([resource("CMS_T2_US_Nebraska"), resource("CMS_T2_DE_DESY")], "GlideResource");
    assert.ok(
      [...factories, ...resources].every((o) => o.ok),
      JSON.stringify(resources),
    );

    const rpc = createRpcClient({
      url: schedd.schedd().url(),
      caDir: pool.pki.caDir,
      credentialFile: pool.pki.proxy.file,
    });
    const alice = scheddClient(rpc);
    const cluster = await alice.newCluster();
    // More memory than the pool's one slot has: it waits for pilots from a matching entry.
    await alice.submitJobs(cluster, [
      job({ RequestMemory: "64000", DESIRED_Sites: '"T2_US_Nebraska"' }),
    ]);
    await rpc.close();

    const base = { UPDRAFT_SCHEDD: schedd.schedd().url(), UPDRAFT_POOL: userPool.url };
    const id = `${cluster}.0`;
    const lines = [
      /\n {4}CMS_T2_DE_DESY@gf {6}does not match\n/,
      /\n {4}CMS_T2_US_Nebraska@gf {2}matches for fe\.main; no pilots yet\n/,
      /\n {2}1 entry matches, 1 with no pilots yet\n/,
    ];
    const byFlag = await q(base, ["-better-analyze", id, "-wms-pool", wms.url]);
    assert.equal(byFlag.code, 0, byFlag.stderr);
    for (const line of lines) assert.match(byFlag.stdout, line);
    assert.match(byFlag.stdout, /Of 1 slots on 1 machines/, "the slots still come from the pool");

    const byEnv = await q({ ...base, UPDRAFT_WMS_POOL: wms.url }, ["-better-analyze", id]);
    assert.equal(byEnv.code, 0, byEnv.stderr);
    for (const line of lines) assert.match(byEnv.stdout, line);

    // The pool's collector alone has no entry: the job is not said to have any.
    const poolOnly = await q(base, ["-better-analyze", id]);
    assert.equal(poolOnly.code, 0, poolOnly.stderr);
    assert.doesNotMatch(poolOnly.stdout, /CMS_T2_US_Nebraska@gf/);

    // A WMS collector that is not there is named, with what to set.
    const gone = await q(base, ["-better-analyze", id, "-wms-pool", "wss://127.0.0.1:1"]);
    assert.notEqual(gone.code, 0);
    assert.match(gone.stderr, /the entries at the WMS collector: .*--wms-pool or UPDRAFT_WMS_POOL/);
  } finally {
    await schedd.stop().catch(() => {});
    await userPool.stop();
    await wms.stop();
  }
});
