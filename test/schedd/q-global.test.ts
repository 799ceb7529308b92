/**
 * `updraft q -global` against a real collector and two real schedds advertising to it: each
 * schedd's jobs under its own `-- Schedd: NAME : URL` header, as condor_q -global prints them;
 * a schedd that cannot be reached is reported and the other still listed, with a failing exit;
 * -json prints every schedd's jobs as one JSON array.
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
import { createPool, startCollector } from "../collector/harness.js";
import { job, scheddConfig } from "./harness.js";

const HOST_DN = "/DC=org/DC=example/CN=localhost";
const ALICE = "/DC=org/DC=example/CN=Alice";
const bin = fileURLToPath(new URL("../../../bin/updraft.js", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "updraft-q-global-"));
const pool = createPool();
after(() => {
  pool.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

async function q(collectorUrl: string, args: string[]) {
  try {
    const r = await promisify(execFile)(process.execPath, [bin, "q", ...args], {
      env: {
        PATH: process.env.PATH,
        HOME: dir,
        UPDRAFT_CONFIG: join(dir, "no-such-client.yaml"),
        UPDRAFT_POOL: collectorUrl,
        X509_CERT_DIR: pool.pki.caDir,
        X509_USER_PROXY: pool.pki.proxy.file,
      },
    });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

test("q -global lists every schedd's jobs, and goes on past one it cannot reach", async () => {
  const collector = await startCollector(
    pool,
    pool.config({
      authorization: {
        rules: [
          { identity: HOST_DN, roles: ["daemon", "read"] },
          { identity: ALICE, roles: ["read"] },
        ],
      },
    }),
  );
  const daemons = ["one", "two"].map((n) =>
    createScheddDaemon(
      scheddConfig(pool.pki, join(dir, n), {
        name: `schedd@${n}`,
        collector: { url: collector.url, interval_s: 3600 },
      }),
    ),
  );
  try {
    const urls: string[] = [];
    const clusters: number[] = [];
    for (const [i, d] of daemons.entries()) {
      await d.start();
      urls.push(d.schedd().url());
      const alice = scheddClient(
        createRpcClient({
          url: d.schedd().url(),
          caDir: pool.pki.caDir,
          credentialFile: pool.pki.proxy.file,
        }),
      );
      const cluster = await alice.newCluster();
      await alice.submitJobs(
        cluster,
        Array.from({ length: i + 1 }, () => job()),
      );
      clusters.push(cluster);
      await alice.rpc.close();
    }
    for (let i = 0; i < 100; i++) {
      if ((await collector.as("reader").query({ type: "Scheduler" })).length === 2) break;
      await new Promise((r) => setTimeout(r, 50));
    }

    const both = await q(collector.url, ["-global"]);
    assert.equal(both.code, 0, both.stderr);
    for (const [i, n] of ["one", "two"].entries()) {
      const at = both.stdout.indexOf(`-- Schedd: schedd@${n} : ${urls[i]}\n`);
      assert.ok(at >= 0, both.stdout);
      const section = both.stdout.slice(at).split("\n-- Schedd:")[0]!;
      // Its own cluster, with its own count of idle jobs (one, then two).
      assert.match(
        section,
        new RegExp(`\\n${"alice".padEnd(14)} .* ${i + 1} +_ +${i + 1} +${clusters[i]}\\n`),
      );
    }

    // -json: one JSON document, an array of both schedds' jobs (as condor_q -global -json).
    const json = await q(collector.url, ["-global", "-json"]);
    assert.equal(json.code, 0, json.stderr);
    const ads = JSON.parse(json.stdout) as Record<string, unknown>[];
    assert.ok(Array.isArray(ads), json.stdout);
    assert.deepEqual(
      ads.map((a) => `${String(a.ClusterId)}.${String(a.ProcId)}`).sort(),
      [`${clusters[0]}.0`, `${clusters[1]}.0`, `${clusters[1]}.1`].sort(),
    );

    // The second schedd stops answering; its ad is still in the collector.
    await daemons[1]!.schedd().close();
    const one = await q(collector.url, ["-global", "-totals"]);
    assert.equal(one.code, 1, "a schedd could not be asked");
    assert.match(one.stdout, new RegExp(`-- Schedd: schedd@one : ${urls[0]}\\n`));
    assert.match(one.stdout, /Total for query: 1 jobs; 0 completed, 0 removed, 1 idle/);
    assert.match(one.stderr, new RegExp(`-- Failed to fetch ads from: ${urls[1]} : schedd@two\\n`));
  } finally {
    for (const d of daemons) await d.stop().catch(() => {});
    await collector.stop();
  }
});
