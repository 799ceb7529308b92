/**
 * The VO's scripts end to end on the pilot side, with real daemons: the frontend stages its
 * bundle and serves it over HTTPS with the test CA's host certificate; a whole pilot fetches it,
 * runs the VO start script (its attribute reaches the slot ad in a real collector), runs jobs
 * from a real schedd through the site's wrapper and the VO's inside it, and turns START off
 * while a periodic script fails. A tampered or truncated bundle ends the pilot as Corruption.
 */
import assert from "node:assert/strict";
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  truncateSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { loadTlsMaterial } from "../../src/common/tls-rpc.js";
import { parseFrontendConfig } from "../../src/frontend/config.js";
import { startVoStaging, type VoStaging } from "../../src/frontend/vo-staging.js";
import { runPilotProcess } from "../../src/pilot/pilot-main.js";
import { fetchVoBundle } from "../../src/pilot/vo-bundle.js";
import { resolveSettings } from "../../src/pilot/settings.js";
import { startPilotCollector } from "../helpers/pilot-collector.js";
import { job, startEnv, submit, type TestEnv } from "../schedd/harness.js";
import { createNodeFixture } from "./node-fixture.js";

/** Hang guard only: every wait ends far sooner when things work. */
const GUARD_MS = 90_000;

async function until<T>(what: string, check: () => Promise<T | undefined>): Promise<T> {
  const end = Date.now() + GUARD_MS;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function script(dir: string, name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, `#!/bin/sh\n${text}\n`);
  chmodSync(p, 0o755);
  return p;
}

/** The frontend's stage area for these scripts, served as its daemon serves it. */
async function stageFrontend(env: TestEnv, dir: string, yaml: string): Promise<VoStaging> {
  const config = parseFrontendConfig(
    `name: fe
collector: { url: "wss://localhost:1/" }
schedds: ["wss://localhost:2/"]
tls:
  cert_file: ${env.pki.host.certFile}
  key_file: ${env.pki.host.keyFile}
  trust_dir: ${env.pki.caDir}
security:
  identity: /CN=fe
  credentials: [{ file: /nonexistent/proxy }]
factories: [{ name: f, identity: /CN=f }]
staging:
  dir: ${join(dir, "stage")}
  listen: { host: 127.0.0.1, port: 0 }
groups:
  - name: main
${yaml}`,
  );
  const staging = await startVoStaging(config, loadTlsMaterial(config.tls!));
  assert.ok(staging, "the frontend staged a bundle");
  return staging;
}

async function world(t: { after(fn: () => unknown): void }) {
  const env = await startEnv();
  t.after(() => env.close());
  const { collector, reader } = await startPilotCollector(env, t);
  const dir = mkdtempSync(join(tmpdir(), "updraft-vo-scripts-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const credential = join(dir, "pilot-credential.pem");
  writeFileSync(credential, env.creds.pilot.certPem + env.creds.pilot.keyPem, { mode: 0o600 });
  const node = createNodeFixture();
  t.after(() => node.cleanup());
  const settings = (
    pilotId: string,
    bundle: { url: string; sha256: string },
    extra: Record<string, unknown> = {},
  ) => {
    const r = resolveSettings(
      {
        pilotId,
        workDir: join(dir, pilotId),
        collector: collector.url,
        schedd: [env.schedd.url()],
        credential,
        trustDir: env.pki.caDir,
        maxWalltime: 3600,
        grace: 5,
        ...extra,
      },
      { UPDRAFT_VO_BUNDLE: bundle.url, UPDRAFT_VO_BUNDLE_SHA256: bundle.sha256 },
      () => "unused",
    );
    assert.ok(r.ok, JSON.stringify(r));
    return r.settings;
  };
  const slotAd = async (pilotId: string) =>
    (await reader.query({ type: "Slot" })).find(
      (a) => a.Name === `"slot1@${pilotId}@wn01.example.org"`,
    );
  return { env, dir, node, settings, slotAd };
}

test("a VO start script's attribute reaches the slot ad, jobs start through the site's wrapper and the VO's inside it, and a failing periodic script turns START off until it passes again", async (t) => {
  const w = await world(t);
  const src = join(w.dir, "vo-src");
  mkdirSync(src);
  const flag = join(w.dir, "squid-down");
  const start = script(src, "software.sh", `echo '{"status":"OK","attrs":{"VO_TAG":"v42"}}'`);
  const health = script(
    src,
    "health.sh",
    `if [ -e ${flag} ]; then echo "squid proxy unreachable" >&2; exit 1; fi
echo '{"status":"OK","attrs":{"VO_HEALTH":"good"}}'`,
  );
  const voWrapper = script(
    src,
    "vo-wrap.sh",
    `echo "vo $1" >> order.txt\nexport VO_WRAPPED=yes\nexec "$@"`,
  );
  const staging = await stageFrontend(
    w.env,
    w.dir,
    `    scripts:
      - { file: ${start} }
      - { file: ${health}, when: periodic, period_s: 1 }
    job_wrapper: { file: ${voWrapper} }`,
  );
  t.after(() => staging.close());
  const bundle = staging.bundles.get("main")!;
  const siteWrapper = script(w.dir, "site-wrap.sh", `echo site >> order.txt\nexec "$@"`);

  const alice = w.env.client("alice");
  const jobAd = job({
    TransferExecutable: "false",
    Cmd: '"/bin/sh"',
    Arguments: `"-c 'echo job $VO_WRAPPED $FROM_JOB >> order.txt; exit 3'"`,
    Environment: '"FROM_JOB=kept"',
    TransferOutput: '"order.txt"',
    RequestMemory: "64",
  });
  const first = await submit(alice, [jobAd]);
  let output = "";
  const terminate = new AbortController();
  const run = runPilotProcess(
    w.settings("pilot-vo", bundle, { jobWrapper: siteWrapper, maxIdle: 600 }),
    { view: w.node.view(), write: (text) => (output += text), terminate: terminate.signal },
  );
  t.after(() => terminate.abort());

  const done = await until("the first job to complete", async () => {
    const [j] = await alice.query({ ids: [`${first}.0`], history: true });
    return j?.JobStatus === "4" ? j : undefined;
  });
  assert.equal(done.ExitCode, "3", "the job's exit code passed through both wrappers");
  const chunks: Uint8Array[] = [];
  for await (const c of alice.fetchOutput(`${first}.0`)) chunks.push(c.data);
  assert.equal(
    Buffer.concat(chunks).toString(),
    "site\nvo /bin/sh\njob yes kept\n",
    "the site's wrapper ran first, the VO's inside it, then the job with its own environment",
  );

  const ok = await until("the slot ad with the VO's attributes", async () => {
    const ad = await w.slotAd("pilot-vo");
    return ad?.VO_TAG !== undefined && ad.VO_HEALTH !== undefined ? ad : undefined;
  });
  assert.equal(ok.VO_TAG, '"v42"', "the start script's attribute is on the slot ad");
  assert.equal(ok.VO_HEALTH, '"good"', "the periodic script's attribute is on the slot ad");
  assert.equal(ok.GLIDEIN_PS_OK, "true");

  writeFileSync(flag, "");
  const off = await until("the slot ad saying the periodic check failed", async () => {
    const ad = await w.slotAd("pilot-vo");
    return ad?.GLIDEIN_PS_OK === "false" ? ad : undefined;
  });
  assert.equal(off.START, "false", "a failing periodic check turns START off");
  assert.match(
    off.GLIDEIN_PS_FAILURE_REASON ?? "",
    /VO_Config: .*health\.sh: squid proxy unreachable/,
  );
  assert.match(off.GLIDEIN_PS_FAILING_LIST ?? "", /health\.sh/);
  assert.match(off.GLIDEIN_PS_FAILED_LIST ?? "", /health\.sh/);
  assert.match(off.GLIDEIN_PS_FAILED_LAST ?? "", /health\.sh/);
  assert.match(off.GLIDEIN_PS_FAILED_LAST_REASON ?? "", /squid proxy unreachable/);

  // An idle pilot claims a new job within a second; this one must leave it alone while off.
  const second = await submit(alice, [jobAd]);
  await new Promise((r) => setTimeout(r, 3000));
  const [waiting] = await alice.query({ ids: [`${second}.0`] });
  assert.equal(waiting?.JobStatus, "1", "no claim while a periodic check fails");

  rmSync(flag);
  await until("the second job to complete once the check passes again", async () => {
    const [j] = await alice.query({ ids: [`${second}.0`], history: true });
    return j?.JobStatus === "4" ? j : undefined;
  });
  // As glideinWMS: OK again with nothing failing, and the failure before still on the ad.
  const again = await until("the slot ad saying the check passes again", async () => {
    const ad = await w.slotAd("pilot-vo");
    return ad?.GLIDEIN_PS_OK === "true" ? ad : undefined;
  });
  assert.equal(again.GLIDEIN_PS_FAILING_LIST, undefined);
  assert.match(again.GLIDEIN_PS_FAILED_LIST ?? "", /health\.sh/);
  assert.match(again.GLIDEIN_PS_FAILED_LAST_REASON ?? "", /squid proxy unreachable/);
  terminate.abort();
  assert.equal(await run, 0, output);
});

test("a tampered or truncated VO bundle ends the pilot as Corruption, naming the file", async (t) => {
  const w = await world(t);
  const src = join(w.dir, "vo-src");
  mkdirSync(src);
  const check = script(src, "check.sh", `echo '{"status":"OK","attrs":{"VO_TAG":"x"}}'`);
  const staging = await stageFrontend(w.env, w.dir, `    scripts: [{ file: ${check} }]`);
  t.after(() => staging.close());
  const bundle = staging.bundles.get("main")!;
  const bundleDir = join(w.dir, "stage", bundle.sha256);
  const staged = readdirSync(bundleDir).find((n) => n.endsWith("check.sh"))!;

  const runOnce = async (pilotId: string, b: { url: string; sha256: string }) => {
    let output = "";
    const code = await runPilotProcess(w.settings(pilotId, b), {
      view: w.node.view(),
      write: (text) => (output += text),
    });
    return { code, output };
  };

  // Same length, other bytes: only the hash can tell.
  writeFileSync(
    join(bundleDir, staged),
    `#!/bin/sh\necho '{"status":"OK","attrs":{"VO_TAG":"y"}}'\n`,
  );
  const tampered = await runOnce("pilot-tampered", bundle);
  assert.equal(tampered.code, 16, tampered.output);
  assert.match(tampered.output, /"failureClass":"Corruption"/);
  assert.match(tampered.output, new RegExp(`file ${staged} has SHA-256 [0-9a-f]{64}, expected`));

  truncateSync(join(bundleDir, staged), 5);
  const truncated = await runOnce("pilot-truncated", bundle);
  assert.equal(truncated.code, 16, truncated.output);
  assert.match(truncated.output, new RegExp(`file ${staged} has SHA-256`));

  // A manifest other than the one the ad vouches for.
  const wrongHash = await runOnce("pilot-wrong-manifest", {
    url: bundle.url,
    sha256: "0".repeat(64),
  });
  assert.equal(wrongHash.code, 16, wrongHash.output);
  assert.match(wrongHash.output, /manifest\.txt has SHA-256 [0-9a-f]{64}, expected 0{64}/);

  assert.equal(
    await w.slotAd("pilot-tampered"),
    undefined,
    "a corrupt pilot never advertised a slot",
  );
});

test("after a restart that changed the scripts, the frontend still serves the bundle pilots queued before it were given", async (t) => {
  const w = await world(t);
  const src = join(w.dir, "vo-src");
  mkdirSync(src);
  const check = script(src, "check.sh", `echo '{"status":"OK","attrs":{"VO_TAG":"old"}}'`);
  const before = await stageFrontend(w.env, w.dir, `    scripts: [{ file: ${check} }]`);
  const old = before.bundles.get("main")!;
  await before.close();
  script(src, "check.sh", `echo '{"status":"OK","attrs":{"VO_TAG":"new"}}'`);
  const after = await stageFrontend(w.env, w.dir, `    scripts: [{ file: ${check} }]`);
  t.after(() => after.close());
  const current = after.bundles.get("main")!;
  assert.notEqual(current.sha256, old.sha256, "the changed script is a new bundle");
  // The queued pilot's URL names the old bundle; the listener's port changed with the restart.
  const oldHere = { url: `${after.url}/${old.sha256}`, sha256: old.sha256 };
  const fetched = await fetchVoBundle(oldHere, join(w.dir, "fetched-old"), {
    trustDir: w.env.pki.caDir,
  });
  assert.ok(fetched.ok, JSON.stringify(fetched));
  assert.deepEqual(
    fetched.value.bundle.start,
    old.files.map((f) => f.path),
  );
  const gone = "f".repeat(64);
  const missing = await fetchVoBundle(
    { url: `${after.url}/${gone}`, sha256: gone },
    join(w.dir, "fetched-missing"),
    { trustDir: w.env.pki.caDir },
  );
  assert.ok(!missing.ok);
  assert.equal(missing.failure.class, "Network");
  assert.match(missing.failure.message, /HTTP 404/);
});
