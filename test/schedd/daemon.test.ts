/**
 * createScheddDaemon: the schedd and its Scheduler ad advertiser start and stop together, so
 * main.ts only wires. A real collector and a real schedd, in one process.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { createScheddDaemon } from "../../src/schedd/daemon.js";
import { createPool, DN, startCollector } from "../collector/harness.js";
import { scheddConfig } from "./harness.js";

const HOST_DN = "/DC=org/DC=example/CN=localhost";
const dir = mkdtempSync(join(tmpdir(), "updraft-schedd-daemon-"));
const pool = createPool();
after(() => {
  pool.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

test("the daemon serves jobs and advertises its Scheduler ad until stopped", async () => {
  const collector = await startCollector(
    pool,
    pool.config({
      authorization: {
        rules: [
          { identity: HOST_DN, roles: ["daemon", "read"] },
          { identity: DN.reader, roles: ["read"] },
        ],
      },
    }),
  );
  const daemon = createScheddDaemon(
    scheddConfig(pool.pki, join(dir, "state"), {
      name: "schedd@daemon-test",
      collector: { url: collector.url, interval_s: 3600 },
    }),
  );
  assert.throws(() => daemon.schedd(), /not started/);
  try {
    await daemon.start();
    const url = daemon.schedd().url();
    // The first advertisement goes out at start, not after the first interval.
    let ads: Record<string, string>[] = [];
    for (let i = 0; i < 100 && ads.length === 0; i++) {
      ads = await collector.as("reader").query({ type: "Scheduler" });
      if (ads.length === 0) await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(ads.length, 1);
    assert.equal(ads[0]!.Name, '"schedd@daemon-test"');
    assert.equal(ads[0]!.ScheddIpAddr, JSON.stringify(url));
    assert.equal(ads[0]!.AuthenticatedIdentity, JSON.stringify(HOST_DN));
  } finally {
    await daemon.stop();
    await collector.stop();
  }
});
