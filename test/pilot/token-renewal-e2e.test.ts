/**
 * A pilot that outlives its token: a real collector and schedd trust a frontend's pilot issuer,
 * the real frontend daemon renews its pilots' tokens, and a pilot whose first token lasts two
 * minutes runs jobs for five. Jobs complete well after the first token expired, the slot ad shows
 * the held token's expiry moving on, and the pilot ends by its own lifetime, not its credential.
 * Meanwhile a second frontend-role identity writes the pilot's PilotCredential ad from the start,
 * before and after each real renewal, with tokens of its own signing: the pilot never takes them.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { createCollectorClient } from "../../src/collector/client.js";
import { systemClock } from "../../src/common/clock.js";
import { initIssuerDir } from "../../src/security/token-issuer.js";
import { createRpcClient } from "../../src/wire/index.js";
import { renewalKeyPem } from "../../src/frontend/pilot-renewal.js";
import { encryptCredential } from "../../src/security/credential-crypto.js";
import { PILOT_BINDING_CLAIM } from "../../src/security/pilot-binding.js";
import { loadIssuer, signToken } from "../../src/security/token-issuer.js";
import {
  ANY_AUDIENCE as ANY,
  assertRenewedRun,
  PILOT_ISS as ISS,
  createPilotIssuer,
  runWatchedPilot,
  startRenewingFrontend,
  startTokenCollector,
  tokenPilotSettings,
  writeFirstPilotToken,
} from "../helpers/renewal-pool.js";
import { DN, job, startEnv, submit } from "../schedd/harness.js";
import { createNodeFixture } from "./node-fixture.js";

const TOKEN_S = 120;
const WALLTIME_S = 300;
const GRACE_S = 10;

test(
  "a pilot with a 2-minute token runs jobs for 5 minutes on tokens its frontend renews",
  { timeout: 15 * 60_000 },
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), "updraft-renewal-"));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const issuer = await createPilotIssuer(dir);
    const env = await startEnv({
      clock: systemClock,
      timers: true,
      extra: {
        tokens: issuer.tokens,
        authorization: {
          rules: [
            { identity: DN.alice, roles: ["user"] },
            { identity: DN.frontend, roles: ["frontend"] },
            issuer.pilotRule,
          ],
          default_roles: [],
        },
      },
    });
    t.after(() => env.close());
    const { url: collectorUrl, reader } = await startTokenCollector(t, {
      name: "collector@renewal",
      pki: env.pki,
      creds: env.creds,
      issuer,
      rules: [
        { identity: DN.frontend, roles: ["frontend", "read"] },
        // Another VO's frontend: trusted with the role, not with these pilots.
        { identity: DN.bob, roles: ["frontend", "read"] },
      ],
    });
    const squatterRpc = createRpcClient({
      url: collectorUrl,
      certPem: env.creds.bob.certPem,
      keyPem: env.creds.bob.keyPem,
      caDir: env.pki.caDir,
    });
    t.after(() => squatterRpc.close());
    const squatter = createCollectorClient(squatterRpc);
    // The squatter's own issuer under the frontend's issuer name: its tokens pass every check the
    // pilot can make itself, and only the collector and schedd would refuse them.
    const rogueDir = join(dir, "rogue");
    assert.ok((await initIssuerDir(rogueDir, ISS)).ok);
    const rogue = await loadIssuer(rogueDir);
    let squatted = 0;
    async function squat(slot: Record<string, string>) {
      const writer = JSON.parse(slot.AuthenticatedIdentity ?? '""') as string;
      const keyPem = renewalKeyPem(JSON.parse(slot.UpdraftRenewalKey ?? '""') as string);
      const binding = JSON.parse(JSON.parse(slot.UpdraftPilotBinding ?? '"null"') as string);
      if (!writer.startsWith(`${ISS}#`) || !keyPem || !binding) return;
      const sub = writer.slice(ISS.length + 1);
      const fake = await signToken(rogue, {
        sub,
        audiences: [ANY],
        lifetimeS: 3600,
        extra: { [PILOT_BINDING_CLAIM]: binding },
      });
      const [o] = await squatter.advertise(
        [
          {
            MyType: '"PilotCredential"',
            Name: JSON.stringify(sub),
            UpdraftSealedToken: JSON.stringify(encryptCredential(fake, keyPem)),
            UpdraftTokenNotAfter: String(Math.floor(Date.now() / 1000) + 3600),
          },
        ],
        "PilotCredential",
      );
      if (o?.ok) squatted++;
    }

    const config = await startRenewingFrontend(t, {
      pki: env.pki,
      creds: env.creds,
      issuer,
      collectorUrl,
      schedds: `["${env.schedd.url()}"]`,
      tokenS: TOKEN_S,
      walltimeS: WALLTIME_S,
    });

    // The first token, as the frontend hands it to the factory for one pilot.
    const started = Date.now();
    const credentialFile = join(dir, "pilot-token");
    const token = await writeFirstPilotToken(config, [ANY], WALLTIME_S, credentialFile);
    const firstExp = Math.floor(started / 1000) + TOKEN_S;

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
    const settings = tokenPilotSettings({
      pilotId: "pilot-renewal",
      workDir: join(dir, "work"),
      collector: collectorUrl,
      schedds: [env.schedd.url()],
      credentialFile,
      trustDir: env.pki.caDir,
      walltimeS: WALLTIME_S,
      maxIdleS: 60,
      graceS: GRACE_S,
    });

    const run = await runWatchedPilot(
      settings,
      node.view(undefined, { nodeCpus: 1 }),
      reader,
      squat,
    );
    const done = await env
      .client("alice")
      .query({ constraint: `ClusterId == ${cluster}`, history: true });
    // The verifiers take a token a while past its end: 90 s of margin.
    assertRenewedRun(
      run,
      {
        kind: "token",
        firstEndS: firstExp,
        lifetimeS: TOKEN_S,
        leewayS: 90,
        writerPrefix: ISS,
        secret: token.slice(-40),
        walltimeS: WALLTIME_S,
        graceS: GRACE_S,
      },
      { workDir: join(dir, "work"), startedMs: started, done, squatted },
    );
  },
);
