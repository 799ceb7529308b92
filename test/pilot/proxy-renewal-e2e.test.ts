/**
 * A pilot that outlives its per-pilot proxy: a real collector and schedd trust the test CA, the
 * real frontend daemon signs its pilots' proxies from a proxy the real grid-proxy-init made and
 * renews them, and a pilot whose first proxy lasts two minutes runs jobs for five. Jobs complete
 * well after the first proxy expired, the slot ad shows the held proxy's end moving on under one
 * identity, and the pilot ends by its own lifetime, not its credential. Meanwhile a second
 * frontend-role identity writes the pilot's PilotCredential ad from the start, before and after
 * each real renewal, with proxies for the pilot's key that it signs from its own grid-proxy-init
 * proxy: the pilot never takes them.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createPublicKey } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { createCollectorClient } from "../../src/collector/client.js";
import { collectorConfigSchema } from "../../src/collector/config.js";
import { createCollectorDaemon } from "../../src/collector/daemon.js";
import { systemClock } from "../../src/common/clock.js";
import { parseFrontendConfig } from "../../src/frontend/config.js";
import { createFrontendDaemon } from "../../src/frontend/daemon.js";
import { mintPilotProxyBatch } from "../../src/frontend/pilot-proxies.js";
import { renewalKeyPem } from "../../src/frontend/pilot-renewal.js";
import { resolveSettings } from "../../src/pilot/settings.js";
import { chainNotAfter, pemCertificates } from "../../src/security/cert-info.js";
import { readCredentialFile } from "../../src/security/credential-file.js";
import { isPilotBinding, parsePilotBinding } from "../../src/security/pilot-binding.js";
import { certifyProxyKey } from "../../src/security/proxy.js";
import { createRpcClient } from "../../src/wire/index.js";
import { output as toolOutput, run } from "../security/tools.js";
import { DN, job, startEnv, submit } from "../schedd/harness.js";
import { assertRenewedRun, runWatchedPilot } from "../helpers/renewal-pool.js";
import { createNodeFixture } from "./node-fixture.js";

const PROXY_S = 120;
const WALLTIME_S = 300;
const GRACE_S = 10;

test(
  "a pilot with a 2-minute proxy runs jobs for 5 minutes on proxies its frontend renews",
  { timeout: 15 * 60_000 },
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), "updraft-proxy-renewal-"));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const pilotRule = { identity: DN.pilot, roles: ["pilot", "read"] };
    const env = await startEnv({
      clock: systemClock,
      timers: true,
      extra: {
        authorization: {
          rules: [
            { identity: DN.alice, roles: ["user"] },
            { identity: DN.frontend, roles: ["frontend"] },
            pilotRule,
          ],
          default_roles: [],
        },
      },
    });
    t.after(() => env.close());
    const gridProxy = (who: "pilot" | "bob", out: string) => {
      const r = run("grid-proxy-init", [
        "-rfc",
        "-cert",
        env.creds[who].certFile,
        "-key",
        env.creds[who].keyFile,
        "-certdir",
        env.pki.caDir,
        "-out",
        out,
      ]);
      assert.equal(r.status, 0, `grid-proxy-init failed: ${toolOutput(r)}`);
      return readFileSync(out, "latin1");
    };
    // The frontend's pilot proxy, and the squatter's own.
    const frontendProxyFile = join(dir, "frontend-pilot.proxy");
    const frontendProxy = gridProxy("pilot", frontendProxyFile);
    const squatterProxy = gridProxy("bob", join(dir, "squatter.proxy"));
    const collector = createCollectorDaemon(
      collectorConfigSchema.parse({
        name: "collector@proxy-renewal",
        listen: { host: "127.0.0.1", port: 0 },
        tls: {
          cert_file: env.pki.host.certFile,
          key_file: env.pki.host.keyFile,
          trust_dir: env.pki.caDir,
        },
        authorization: {
          rules: [
            pilotRule,
            { identity: DN.frontend, roles: ["frontend", "read"] },
            // Another VO's frontend: trusted with the role, not with these pilots.
            { identity: DN.bob, roles: ["frontend", "read"] },
            { identity: DN.admin, roles: ["admin", "read"] },
          ],
        },
      }),
    );
    const collectorUrl = (await collector.start()).replace("127.0.0.1", "localhost");
    t.after(() => collector.stop());
    const readerRpc = createRpcClient({
      url: collectorUrl,
      certPem: env.creds.admin.certPem,
      keyPem: env.creds.admin.keyPem,
      caDir: env.pki.caDir,
    });
    t.after(() => readerRpc.close());
    const reader = createCollectorClient(readerRpc);
    const squatterRpc = createRpcClient({
      url: collectorUrl,
      certPem: env.creds.bob.certPem,
      keyPem: env.creds.bob.keyPem,
      caDir: env.pki.caDir,
    });
    t.after(() => squatterRpc.close());
    const squatter = createCollectorClient(squatterRpc);
    // An hour-long proxy for the pilot's own key with the pilot's binding, from the squatter's
    // proxy: another subject, written by another writer.
    let squatted = 0;
    async function squat(slot: Record<string, string>) {
      const writer = JSON.parse(slot.AuthenticatedIdentity ?? '""') as string;
      const keyPem = renewalKeyPem(JSON.parse(slot.UpdraftRenewalKey ?? '""') as string);
      const claim = JSON.parse(JSON.parse(slot.UpdraftPilotBinding ?? '"null"') as string);
      const binding = parsePilotBinding(claim);
      if (!writer.startsWith(`${DN.pilot}#pilot-`) || !keyPem || !isPilotBinding(binding)) return;
      const squatterCred = readCredentialFile(squatterProxy);
      const chain = certifyProxyKey({
        certChainPem: squatterCred.chainPem.join(""),
        keyPem: squatterCred.keyPem!,
        hours: 1,
        binding,
        spkiDer: createPublicKey(keyPem).export({ type: "spki", format: "der" }),
      });
      const [o] = await squatter.advertise(
        [
          {
            MyType: '"PilotCredential"',
            Name: JSON.stringify(`pilot-${binding.pilotId!}`),
            UpdraftProxyChain: JSON.stringify(chain),
            UpdraftTokenNotAfter: String(Math.floor(Date.now() / 1000) + 3600),
          },
        ],
        "PilotCredential",
      );
      if (o?.ok) squatted++;
    }

    const config = parseFrontendConfig(
      `
name: fe
collector: { url: "${collectorUrl}" }
schedds: ["${env.schedd.url()}"]
cycle_s: 2
peer_timeout_s: 20
log_level: warn
tls:
  cert_file: ${env.creds.frontend.certFile}
  key_file: ${env.creds.frontend.keyFile}
  trust_dir: ${env.pki.caDir}
security:
  identity: ${DN.frontend}
  credentials: [{ type: pilot_proxies, file: ${frontendProxyFile}, security_class: main }]
  pilot_proxies: { lifetime_s: ${PROXY_S}, batch_max: 1 }
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

    // The first proxy, as the frontend hands it to the factory for one pilot.
    const started = Date.now();
    const proxy = await mintPilotProxyBatch(
      {
        binding: { frontend: "fe", group: "main", entry: "e1", factory: "f1" },
        count: 1,
        proxyIssuer: Buffer.from(frontendProxy, "latin1"),
      },
      { ...config.security.pilot_proxies, max_walltime_s: WALLTIME_S },
    );
    const firstExp = Math.floor(chainNotAfter(pemCertificates(proxy))!.getTime() / 1000);
    assert.ok(firstExp <= Math.floor(started / 1000) + PROXY_S + 1);
    const credentialFile = join(dir, "pilot.proxy");
    writeFileSync(credentialFile, proxy, { mode: 0o600 });
    // More work than the pilot's life: one job at a time, 12 s each.
    const cluster = await submit(
      env.client("alice"),
      Array.from({ length: 40 }, () =>
        job({
          TransferExecutable: "false",
          Cmd: '"/bin/sh"',
          Arguments: "\"-c 'sleep 12'\"",
          RequestMemory: "64",
        }),
      ),
    );
    const node = createNodeFixture();
    t.after(() => node.cleanup());
    const r = resolveSettings(
      {
        pilotId: "pilot-proxy-renewal",
        workDir: join(dir, "work"),
        collector: collectorUrl,
        schedd: [env.schedd.url()],
        credential: credentialFile,
        trustDir: env.pki.caDir,
        maxWalltime: WALLTIME_S,
        maxIdle: 60,
        grace: GRACE_S,
      },
      // As the factory sets it: the writer of the GlideClient ad the pilot was made for.
      { UPDRAFT_FRONTEND_IDENTITY: DN.frontend },
      () => "unused",
    );
    assert.ok(r.ok, JSON.stringify(r));

    const pilotRun = await runWatchedPilot(
      r.settings,
      node.view(undefined, { nodeCpus: 1 }),
      reader,
      squat,
    );
    const done = await env
      .client("alice")
      .query({ constraint: `ClusterId == ${cluster}`, history: true });
    // Servers close a connection at its chain's end, so no leeway beyond it: 60 s of margin.
    assertRenewedRun(
      pilotRun,
      {
        kind: "proxy",
        firstEndS: firstExp,
        lifetimeS: PROXY_S,
        leewayS: 60,
        writerPrefix: DN.pilot,
        secret: "PRIVATE KEY",
        walltimeS: WALLTIME_S,
        graceS: GRACE_S,
      },
      { workDir: join(dir, "work"), startedMs: started, done, squatted },
    );
  },
);
