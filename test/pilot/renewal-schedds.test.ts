/**
 * A pilot reaches a schedd its frontend found after the pilot was submitted: a real collector, two
 * real schedds advertising their Scheduler ads, the real frontend daemon with `schedds: all`
 * renewing its pilots' tokens, and a pilot submitted knowing only the first schedd. The second
 * schedd starts after the pilot; its job runs on that pilot once a renewal names the schedd, and
 * not before.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { createCollectorClient } from "../../src/collector/client.js";
import { collectorConfigSchema } from "../../src/collector/config.js";
import { createCollectorDaemon } from "../../src/collector/daemon.js";
import { parseFrontendConfig } from "../../src/frontend/config.js";
import { createFrontendDaemon } from "../../src/frontend/daemon.js";
import { createPilotTokenMinter } from "../../src/frontend/pilot-tokens.js";
import { runPilotProcess } from "../../src/pilot/pilot-main.js";
import { resolveSettings } from "../../src/pilot/settings.js";
import { createScheddDaemon, type ScheddDaemon } from "../../src/schedd/daemon.js";
import { scheddClient } from "../../src/schedd/client.js";
import { initIssuerDir } from "../../src/security/token-issuer.js";
import { createRpcClient } from "../../src/wire/index.js";
import { DN, job, rpcFor, scheddConfig, submit, testPki } from "../schedd/harness.js";
import { createNodeFixture } from "./node-fixture.js";
import { createLogger } from "../../src/common/logger.js";

const ISS = "https://frontend.pool.example.org/pilots";
/** The daemons here take WLCG's any-audience tokens; the schedds' URLs are in the audience too. */
const ANY = "https://wlcg.cern.ch/jwt/v1/any";
/** The test CA's host certificate, which both schedds present. */
const SCHEDD_DN = "/DC=org/DC=example/CN=localhost";
const TOKEN_S = 60;
const WALLTIME_S = 600;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test(
  "a pilot runs a job from a schedd its frontend found after the pilot was submitted",
  { timeout: 10 * 60_000 },
  async (t) => {
    const { pki, creds } = testPki();
    const dir = mkdtempSync(join(tmpdir(), "updraft-renewal-schedds-"));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const issuerDir = join(dir, "issuer");
    const init = await initIssuerDir(issuerDir, ISS);
    assert.ok(init.ok);
    const tokens = {
      issuers: [{ issuer: ISS, jwks_file: init.dir.jwksFile }],
      accept_any_audience: true,
    };
    const pilotRule = { issuer: ISS, roles: ["pilot", "read"] };

    const collector = createCollectorDaemon(
      collectorConfigSchema.parse({
        name: "collector@renewal-schedds",
        listen: { host: "127.0.0.1", port: 0 },
        tls: { cert_file: pki.host.certFile, key_file: pki.host.keyFile, trust_dir: pki.caDir },
        tokens,
        authorization: {
          rules: [
            pilotRule,
            { identity: SCHEDD_DN, roles: ["daemon", "read"] },
            { identity: DN.frontend, roles: ["frontend", "read"] },
            { identity: DN.admin, roles: ["admin", "read"] },
          ],
        },
      }),
    );
    const collectorUrl = (await collector.start()).replace("127.0.0.1", "localhost");
    t.after(() => collector.stop());
    const readerRpc = createRpcClient({
      url: collectorUrl,
      certPem: creds.admin.certPem,
      keyPem: creds.admin.keyPem,
      caDir: pki.caDir,
    });
    t.after(() => readerRpc.close());
    const reader = createCollectorClient(readerRpc);

    /** A real schedd that takes the frontend's pilot tokens and advertises to the collector. */
    const daemons: ScheddDaemon[] = [];
    t.after(() => Promise.all(daemons.map((d) => d.stop())));
    async function startScheddDaemon(name: string) {
      const base = scheddConfig(pki, join(dir, name));
      const daemon = createScheddDaemon(
        scheddConfig(pki, join(dir, name), {
          name,
          tokens,
          authorization: {
            rules: [...base.authorization.rules, pilotRule],
            default_roles: [],
          },
          collector: { url: collectorUrl, interval_s: 2 },
        }),
      );
      daemons.push(daemon);
      await daemon.start();
      const url = daemon.schedd().url();
      const rpc = rpcFor(pki, creds, "alice", url);
      t.after(() => rpc.close());
      return { url, alice: scheddClient(rpc) };
    }
    const first = await startScheddDaemon("first@renewal-schedds");

    const config = parseFrontendConfig(
      `
name: fe
collector: { url: "${collectorUrl}" }
schedds: all
cycle_s: 2
peer_timeout_s: 20
log_level: ${process.env.DEBUG_PILOT ? "debug" : "warn"}
tls:
  cert_file: ${creds.frontend.certFile}
  key_file: ${creds.frontend.keyFile}
  trust_dir: ${pki.caDir}
security:
  identity: ${DN.frontend}
  credentials: [{ type: pilot_tokens, security_class: main }]
  pilot_tokens: { dir: ${issuerDir}, lifetime_s: ${TOKEN_S}, audiences: ["${ANY}"] }
  schedd_identities: ["${SCHEDD_DN}"]
factories: [{ name: f1, identity: /CN=f1 }]
pilot: { max_walltime_s: ${WALLTIME_S} }
groups:
  - name: main
`,
      "fe.yaml",
    );
    const frontend = createFrontendDaemon(config);
    await frontend.start();
    t.after(() => frontend.stop());

    // The pilot's first token, as the frontend hands it to the factory while only the first
    // schedd is known: signed for the collector and that schedd.
    const minter = await createPilotTokenMinter(
      config.security.pilot_tokens!,
      [collectorUrl, first.url, ANY],
      WALLTIME_S,
    );
    const token = (
      await minter.mint({
        binding: { frontend: "fe", group: "main", entry: "e1", factory: "f1" },
        count: 1,
      })
    ).trim();
    const credentialFile = join(dir, "pilot-token");
    writeFileSync(credentialFile, `${token}\n`, { mode: 0o600 });
    const node = createNodeFixture();
    t.after(() => node.cleanup());
    const r = resolveSettings(
      {
        pilotId: "pilot-renewal-schedds",
        workDir: join(dir, "work"),
        collector: collectorUrl,
        schedd: [first.url],
        credential: credentialFile,
        trustDir: pki.caDir,
        maxWalltime: WALLTIME_S,
        maxIdle: 400,
        grace: 10,
      },
      { UPDRAFT_FRONTEND_IDENTITY: DN.frontend },
      () => "unused",
    );
    assert.ok(r.ok, JSON.stringify(r));
    const terminate = new AbortController();
    let output = "";
    const pilot = runPilotProcess(r.settings, {
      view: node.view(undefined, { nodeCpus: 1 }),
      write: (s) => (output += s),
      terminate: terminate.signal,
      log: createLogger({ name: "pilot", level: process.env.DEBUG_PILOT ? "debug" : "silent" }),
    });
    t.after(async () => {
      terminate.abort();
      await pilot;
    });

    /** The pilot's slot ad once the collector holds it. */
    const slot = async () => (await reader.query({ type: "Slot" }))[0];
    async function waitFor<T>(what: string, get: () => Promise<T | undefined>, ms: number) {
      const until = Date.now() + ms;
      for (;;) {
        const v = await get().catch(() => undefined);
        if (v !== undefined) return v;
        if (Date.now() > until) throw new Error(`timed out waiting for ${what}\n${output}`);
        await sleep(1_000);
      }
    }
    const firstSlot = await waitFor("the pilot's slot ad", slot, 120_000);
    const firstExpiry = Number(firstSlot.UpdraftCredentialExpiry);
    assert.ok(firstExpiry > 0, JSON.stringify(firstSlot));

    // Now a second schedd appears, with a job the pilot could run; the frontend finds it through
    // its Scheduler ad.
    const second = await startScheddDaemon("second@renewal-schedds");
    assert.notEqual(second.url, first.url);
    const cluster = await submit(second.alice, [
      job({
        TransferExecutable: "false",
        Cmd: '"/bin/sh"',
        Arguments: "\"-c 'echo from-second'\"",
        RequestMemory: "64",
      }),
    ]);
    const submittedS = Math.floor(Date.now() / 1000);

    // The renewal the frontend advertises names the second schedd, and signs the token for it.
    const renewal = await waitFor(
      "the frontend's renewal naming the second schedd",
      async () => {
        const ads = await reader.query({ type: "PilotCredential" });
        const ad = ads.find((a) => (a.UpdraftSchedds ?? "").includes(second.url));
        return ad ? { ad, seenS: Math.floor(Date.now() / 1000) } : undefined;
      },
      180_000,
    );
    assert.equal(renewal.ad.AuthenticatedIdentity, JSON.stringify(DN.frontend));
    assert.deepEqual(
      (JSON.parse(renewal.ad.UpdraftSchedds!) as string).split(",").sort(),
      [first.url, second.url].sort(),
    );
    const done = await waitFor(
      "the second schedd's job to complete",
      async () => {
        const h = await second.alice.query({
          constraint: `ClusterId == ${cluster}`,
          history: true,
        });
        return h[0]?.JobStatus === "4" ? h[0] : undefined;
      },
      180_000,
    );
    assert.equal(done.ExitCode, "0");
    // On this pilot (its slot's name after the slot number), and only once the renewal was out:
    // the job waited at the second schedd from well before it.
    const pilotName = (JSON.parse(firstSlot.Name!) as string).replace(/^slot\d+@/, "");
    assert.ok((done.LastRemoteHost ?? "").includes(pilotName), done.LastRemoteHost);
    const startS = Number(done.JobStartDate ?? done.JobCurrentStartDate);
    assert.ok(Number.isFinite(startS), JSON.stringify(done));
    assert.ok(
      startS >= renewal.seenS - 2,
      `job started at ${startS}, before the renewal naming its schedd (seen at ${renewal.seenS})`,
    );
    assert.ok(submittedS < renewal.seenS - 5, "the job waited at the second schedd before it");
    const now = await slot();
    assert.ok(Number(now?.UpdraftCredentialExpiry) > firstExpiry, "the pilot holds the renewal");

    terminate.abort();
    await pilot;
  },
);
