/**
 * A collector of a pair that is up but hung (its process stopped with SIGSTOP: the connection
 * stays open, nothing answers) holds the set's writes only WRITE_GRACE_MS once the other
 * collector took them, not for the call's deadline.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { createCollectorClient } from "../../src/collector/client.js";
import { connectCollectorSet } from "../../src/collector/collector-set.js";
import { distinctFreePorts } from "../../src/pool/ports.js";
import {
  connectAs,
  createPool,
  DN,
  type Pool,
  type Running,
  slotAd,
  startCollector,
  tempDir,
} from "./harness.js";

const bin = fileURLToPath(new URL("../../../bin/updraft.js", import.meta.url));
let pool: Pool;
let tmp: ReturnType<typeof tempDir>;
let live: Running;
let hung: { url: string; child: ChildProcess; exited: Promise<unknown> };

/** A collector in a process of its own, so that it can be stopped without closing its sockets. */
async function spawnCollector(): Promise<typeof hung> {
  const [port] = await distinctFreePorts(1);
  const config = join(tmp.dir, "collector.yaml");
  // YAML reads JSON.
  const text = JSON.stringify({
    name: "collector@hung",
    listen: { host: "127.0.0.1", port },
    tls: {
      cert_file: pool.pki.host.certFile,
      key_file: pool.pki.host.keyFile,
      trust_dir: pool.pki.caDir,
    },
    authorization: {
      rules: [
        { identity: "/DC=org/DC=example/OU=Pilots/*", roles: ["pilot", "read"] },
        { identity: DN.reader, roles: ["read"] },
      ],
    },
  });
  writeFileSync(config, text);
  const child = spawn(process.execPath, [bin, "collector", "--config", config], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  const exited = new Promise((resolve) => child.once("exit", resolve));
  let out = "";
  child.stdout!.setEncoding("utf8").on("data", (d: string) => (out += d));
  child.stderr!.setEncoding("utf8").on("data", (d: string) => (out += d));
  const deadline = Date.now() + 30_000;
  while (!out.includes("collector started")) {
    if (Date.now() > deadline) throw new Error(`collector did not start:\n${out}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return { url: `wss://localhost:${port}/`, child, exited };
}

before(async () => {
  pool = createPool();
  tmp = tempDir();
  live = await startCollector(pool);
  hung = await spawnCollector();
});

after(async () => {
  hung.child.kill("SIGCONT");
  hung.child.kill("SIGTERM");
  await hung.exited;
  await live.stop();
  tmp.cleanup();
  pool.cleanup();
});

test("with one collector of a pair up but hung, writes answer once the other took them, and its call is still waiting", async () => {
  const failed: string[] = [];
  const set = connectCollectorSet([hung.url, live.url], (url) => connectAs(pool, url, "pilot"), {
    onFailure: (url, err) => failed.push(`${url} ${(err as { code?: string }).code}`),
  });
  try {
    // Both collectors take an ad through the set while they work, so the set's connection to
    // each is up (the set waits only for those) before one hangs.
    const reader = connectAs(pool, hung.url, "reader");
    const heldByHung = async () =>
      (await createCollectorClient(reader).query({ type: "Slot" })).length > 0;
    for (let i = 0; i < 200 && !(await heldByHung()); i++) {
      const [first] = await set.collector.advertise([slotAd(1)], "Slot");
      assert.equal(first?.ok, true);
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(await heldByHung(), "the collector to hang took the ad");
    await reader.close();

    hung.child.kill("SIGSTOP");
    // A deadline far beyond the grace: had the set waited for the hung collector, its call would
    // have failed (and been reported) before the set answered.
    const deadlineMs = 60_000;
    const [taken] = await set.collector.advertise([slotAd(2)], "Slot", { deadlineMs });
    assert.equal(taken?.ok, true, "the live collector took the ad");
    const name = JSON.parse(slotAd(1).Name!) as string;
    const gone = await set.collector.invalidate({ type: "Slot", name }, { deadlineMs });
    assert.equal(gone.removed, 1, "the live collector removed the ad");
    assert.deepEqual(
      failed,
      [],
      "the hung collector's calls were still waiting when the set answered",
    );
    assert.deepEqual(
      (await live.as("reader").query({ type: "Slot" })).map((a) => a.Name),
      [slotAd(2).Name],
    );
  } finally {
    hung.child.kill("SIGCONT");
    await set.close();
  }
});
