/**
 * A pilot that fails validation keeps its batch slot for the configured time, advertising a
 * failure ad to a real collector meanwhile, claims nothing from a real schedd, and then ends
 * with its failure class; SIGTERM ends the wait at once.
 */
import assert from "node:assert/strict";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { buildFailureAd } from "../../src/pilot/failure-linger.js";
import { runPilotProcess } from "../../src/pilot/pilot-main.js";
import { resolveSettings } from "../../src/pilot/settings.js";
import { startPilotCollector } from "../helpers/pilot-collector.js";
import { job, startEnv, submit } from "../schedd/harness.js";
import { createNodeFixture } from "./node-fixture.js";

/** Hang guard only. */
const GUARD_MS = 60_000;

test("the failure ad matches nothing and says what failed and until when the node is kept", () => {
  const ad = buildFailureAd({
    id: { pilotId: "p1", host: "wn01" },
    published: { GLIDEIN_Site: "Test" },
    nodeAttrs: { OpSys: "LINUX", Cpus: 64 },
    failure: { class: "WN_Resource", message: "scratch is read-only" },
    exitCode: 11,
    nowMs: Date.UTC(2026, 0, 1),
    untilMs: Date.UTC(2026, 0, 1, 0, 20),
  });
  assert.equal(ad.evaluate("START"), false);
  assert.equal(ad.evaluate("Cpus"), 0, "a node attribute cannot pass for the slot's own");
  assert.equal(ad.evaluate("GLIDEIN_Failed"), true);
  assert.equal(ad.evaluate("GLIDEIN_EXIT_CODE"), 11);
  assert.equal(ad.evaluate("GLIDEIN_FAILURE_CLASS"), "WN_Resource");
  assert.equal(
    ad.evaluate("GLIDEIN_FAILURE_REASON"),
    "WN_Resource: scratch is read-only. Keeping the node busy until 2026-01-01T00:20:00.000Z",
  );
  assert.equal(ad.evaluate("GLIDEIN_ToDie"), Date.UTC(2026, 0, 1, 0, 20) / 1000);
  assert.equal(ad.evaluate("GLIDEIN_Site"), "Test");
  assert.equal(ad.evaluate("Name"), "slot1@p1@wn01");
});

async function world(t: { after(fn: () => unknown): void }) {
  const env = await startEnv();
  t.after(() => env.close());
  const { collector, reader } = await startPilotCollector(env, t);
  const dir = mkdtempSync(join(tmpdir(), "updraft-linger-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const credential = join(dir, "pilot-credential.pem");
  writeFileSync(credential, env.creds.pilot.certPem + env.creds.pilot.keyPem, { mode: 0o600 });
  const script = join(dir, "check-scratch.sh");
  writeFileSync(script, '#!/bin/sh\necho "scratch is read-only" >&2\nexit 1\n');
  chmodSync(script, 0o755);
  const node = createNodeFixture();
  t.after(() => node.cleanup());
  const alice = env.client("alice");
  const cluster = await submit(alice, [
    job({ TransferExecutable: "false", Cmd: '"/bin/true"', RequestMemory: "64" }),
  ]);
  const settings = (failureLinger: number) => {
    const r = resolveSettings(
      {
        pilotId: "pilot-broken",
        workDir: join(dir, "work"),
        collector: collector.url,
        schedd: [env.schedd.url()],
        credential,
        trustDir: env.pki.caDir,
        maxWalltime: 3600,
        script: [script],
        failureLinger,
      },
      {},
      () => "unused",
    );
    assert.ok(r.ok, JSON.stringify(r));
    return r.settings;
  };
  const failureAds = async () =>
    (await reader.query({ type: "Slot" })).filter(
      (a) => a.Name === '"slot1@pilot-broken@wn01.example.org"',
    );
  return { alice, jobId: `${cluster}.0`, node, settings, failureAds };
}

test("a pilot that failed validation keeps its slot, advertises why, claims nothing, then ends with its class", async (t) => {
  const w = await world(t);
  let output = "";
  const began = Date.now();
  const run = runPilotProcess(w.settings(2), {
    view: w.node.view(),
    write: (text) => (output += text),
  });
  let seen: Record<string, string> | undefined;
  const end = Date.now() + GUARD_MS;
  while (!seen && Date.now() < end) {
    seen = (await w.failureAds())[0];
    if (!seen) await new Promise((r) => setTimeout(r, 50));
  }
  assert.ok(seen, "the failure ad reached the collector");
  assert.equal(seen.GLIDEIN_Failed, "true");
  assert.equal(seen.START, "false");
  assert.equal(seen.GLIDEIN_FAILURE_CLASS, '"WN_Resource"');
  assert.match(
    seen.GLIDEIN_FAILURE_REASON ?? "",
    /scratch is read-only\. Keeping the node busy until/,
  );
  const code = await run;
  assert.ok(Date.now() - began >= 2000, "the slot was kept for the linger time");
  assert.equal(code, 11, output);
  assert.match(output, /"failureClass":"WN_Resource"/);
  assert.deepEqual(await w.failureAds(), [], "the failure ad is gone once the pilot ends");
  const [ad] = await w.alice.query({ ids: [w.jobId] });
  assert.equal(ad!.JobStatus, "1", "the job was never claimed by the broken pilot");
  assert.equal(ad!.NumJobStarts ?? "0", "0");
});

test("SIGTERM ends a failure linger at once", async (t) => {
  const w = await world(t);
  const terminate = new AbortController();
  let output = "";
  const run = runPilotProcess(w.settings(600), {
    view: w.node.view(),
    write: (text) => (output += text),
    terminate: terminate.signal,
  });
  const end = Date.now() + GUARD_MS;
  while ((await w.failureAds()).length === 0 && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.equal((await w.failureAds()).length, 1);
  const stoppedAt = Date.now();
  terminate.abort();
  assert.equal(await run, 11, output);
  assert.ok(Date.now() - stoppedAt < GUARD_MS / 2, "ended soon after SIGTERM, not after 600 s");
  assert.deepEqual(await w.failureAds(), []);
});
