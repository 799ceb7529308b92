import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { ClassAd } from "../../src/classad/index.js";
import { createFactoryDaemon } from "../../src/factory/daemon.js";
import { createFactoryWorld, type FactoryWorld, PILOT_OK, silent } from "./factory-harness.js";

let w: FactoryWorld;
before(async () => {
  w = await createFactoryWorld();
});
after(async () => {
  await w.cleanup();
});

async function until(fn: () => boolean | Promise<boolean>, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await fn())) {
    if (Date.now() > end) assert.fail("condition not reached");
    await new Promise((r) => setTimeout(r, 100));
  }
}

const val = (ad: Record<string, string>, n: string) => ClassAd.fromJSON(ad).evaluate(n);

test("a factory submits what a frontend asks for, tracks the pilots to the end and advertises", async () => {
  // The pilots sleep so they are still there when the ads are read.
  const cfg = w.config({
    top: { work_dir: join(w.dir, "work-basic") },
    pilotScript: `sleep 2\n${PILOT_OK}`,
  });
  const frontend = w.collector.as("frontend");
  await frontend.advertise([w.glideClient()], "GlideClient");
  const daemon = createFactoryDaemon(cfg, { logger: silent });
  try {
    await daemon.start();
    const pilots = daemon.store.all();
    assert.equal(pilots.length, 3);
    assert.ok(
      pilots.every((p) => p.handle && p.client === "fe.main" && p.credentialId.length === 16),
    );

    const reader = w.collector.as("reader");
    const [fad] = await reader.query({ type: "GlideFactory" });
    assert.equal(val(fad!, "Name"), "local1@fact1");
    assert.equal(val(fad!, "GLIDEIN_GridType"), "local");
    assert.equal(val(fad!, "GLIDEIN_Site"), "TEST");
    assert.equal(val(fad!, "GLIDEIN_In_Downtime"), false);
    assert.equal(typeof val(fad!, "PubKeyID"), "string");
    assert.equal(
      (val(fad!, "GlideinMonitorTotalStatusIdle") as number) +
        (val(fad!, "GlideinMonitorTotalStatusRunning") as number),
      3,
    );
    const [cad] = await reader.query({ type: "GlideFactoryClient" });
    assert.equal(val(cad!, "ReqClientName"), "fe.main");
    assert.equal(val(cad!, "GlideinMonitorRequestedIdle"), 3);

    // The decrypted credential is 0600 and never in the database.
    const credDir = join(cfg.work_dir, "credentials", "fe.main");
    const [credFile] = readdirSync(credDir);
    assert.equal(statSync(join(credDir, credFile!)).mode & 0o777, 0o600);
    assert.equal(readFileSync(join(credDir, credFile!), "utf8"), "PILOT-PROXY-SECRET");

    // The scripts finish; the next cycles see it, parse the reports and count.
    await until(async () => {
      await daemon.cycle();
      return daemon.store.all().filter((p) => p.outcome !== null).length >= 3;
    });
    const counters = daemon.store.counters().filter((c) => c.client === "fe.main");
    const get = (n: string) => counters.find((c) => c.name === n)?.value ?? 0;
    assert.ok(get("finished") >= 3);
    assert.ok(get("jobs_run") >= 6);
    assert.equal(get("failed"), 0);
  } finally {
    await daemon.stop();
    await frontend.invalidate({ type: "GlideClient", name: "local1@fact1@fe.main" });
  }
  // A stopped factory withdraws its ads.
  assert.deepEqual(await w.collector.as("reader").query({ type: "GlideFactory" }), []);
  assert.deepEqual(await w.collector.as("reader").query({ type: "GlideFactoryClient" }), []);
});

test("a request under a security class configured for another identity is refused", async () => {
  const cfg = w.config({ top: { work_dir: join(w.dir, "work-refuse") } });
  const frontend = w.collector.as("frontend");
  await frontend.advertise(
    [
      w.glideClient({
        Name: "local1@fact1@fe.ops",
        ClientName: "fe.ops",
        GlideinSecurityClass: "ops",
      }),
    ],
    "GlideClient",
  );
  const daemon = createFactoryDaemon(cfg, { logger: silent });
  try {
    await daemon.start();
    const r = await daemon.cycle();
    assert.equal(r.submitted, 0);
    assert.deepEqual(
      r.decision.refused.map((x) => [x.client, x.reason]),
      [["fe.ops", "identity_mismatch"]],
    );
    assert.equal(daemon.store.all().length, 0);
    assert.ok((daemon.store.counters().find((c) => c.name === "refused")?.value ?? 0) >= 1);
    // Nothing was decrypted for the refused client.
    assert.throws(() => readdirSync(join(cfg.work_dir, "credentials", "fe.ops")));
  } finally {
    await daemon.stop();
    await frontend.invalidate({ type: "GlideClient", name: "local1@fact1@fe.ops" });
  }
});

test("an entry in downtime advertises it and submits nothing", async () => {
  const cfg = w.config({ top: { work_dir: join(w.dir, "work-down") } });
  const frontend = w.collector.as("frontend");
  await frontend.advertise([w.glideClient()], "GlideClient");
  const daemon = createFactoryDaemon(cfg, { logger: silent });
  daemon.store.addDowntime({ entry: "all", start: Date.now() - 1000 }, Date.now());
  try {
    await daemon.start();
    assert.equal(daemon.store.all().length, 0);
    const [fad] = await w.collector.as("reader").query({ type: "GlideFactory" });
    assert.equal(val(fad!, "GLIDEIN_In_Downtime"), true);
  } finally {
    await daemon.stop();
    await frontend.invalidate({ type: "GlideClient", name: "local1@fact1@fe.main" });
  }
});

test("a pilot that cannot run is held, released a limited number of times, then removed", async () => {
  const cfg = w.config({
    top: { work_dir: join(w.dir, "work-held") },
    pilotScript: "exit 0\n",
    entry: { pilot: { command: join(w.dir, "no-such-pilot") } },
  });
  const frontend = w.collector.as("frontend");
  await frontend.advertise([w.glideClient({ ReqIdleGlideins: 1 })], "GlideClient");
  const daemon = createFactoryDaemon(cfg, { logger: silent });
  try {
    await daemon.start();
    await until(async () => {
      await daemon.cycle();
      return daemon.store
        .all()
        .some((p) => p.state === "Removed" && /unrecoverable hold/.test(p.removeReason ?? ""));
    });
  } finally {
    await daemon.stop();
    await frontend.invalidate({ type: "GlideClient", name: "local1@fact1@fe.main" });
  }
});
