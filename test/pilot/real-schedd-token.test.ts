/**
 * A pilot whose credential is a bearer token, in-process against a real schedd and a real
 * collector that trust a private issuer: validation reads the token's identity and lifetime, the
 * pilot claims and runs a job with it, and its slot ad is stored under `<iss>#<sub>`.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { runPilotProcess } from "../../src/pilot/pilot-main.js";
import { resolveSettings } from "../../src/pilot/settings.js";
import { runValidation } from "../../src/pilot/validate/index.js";
import { initIssuerDir, issueToken } from "../../src/security/token-issuer.js";
import { adminReader, startTestCollector } from "../helpers/pilot-collector.js";
import { DN, job, startEnv, submit } from "../schedd/harness.js";
import { createNodeFixture } from "./node-fixture.js";
import { hangGuard } from "../helpers/hang-guard.js";

const ISS = "https://frontend.pool.example.org/issuer";
const GUARD_MS = 60_000;

const within = hangGuard(GUARD_MS);

test("a pilot with a bearer token runs a job and advertises under <iss>#<sub>", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "updraft-pilot-token-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const init = await initIssuerDir(join(dir, "issuer"), ISS);
  assert.ok(init.ok);
  const tokens = {
    issuers: [{ issuer: ISS, jwks_file: init.dir.jwksFile }],
    accept_any_audience: true,
  };
  const pilotRule = { issuer: ISS, group: "/vo/pilots", roles: ["pilot", "read"] };
  const env = await startEnv({
    extra: {
      tokens,
      authorization: {
        rules: [{ identity: DN.alice, roles: ["user"] }, pilotRule],
        default_roles: [],
      },
    },
  });
  t.after(() => env.close());
  const collector = await startTestCollector(
    env.pki,
    [pilotRule, { identity: DN.admin, roles: ["admin", "read"] }],
    { tokens },
  );
  t.after(() => collector.stop());
  const reader = adminReader(collector, env, t);

  const token = await issueToken(join(dir, "issuer"), {
    sub: "pilot-7",
    audiences: ["https://wlcg.cern.ch/jwt/v1/any"],
    groups: ["/vo/pilots"],
    lifetimeS: 3600,
  });
  const credentialFile = join(dir, "pilot-token");
  writeFileSync(credentialFile, `${token}\n`, { mode: 0o600 });

  const node = createNodeFixture();
  t.after(() => node.cleanup());
  const v = await runValidation(node.view(), { credentialFile, credentialMinS: 600 });
  assert.equal(v.ok, true, JSON.stringify(v.failure));
  assert.equal(v.attrs.GLIDEIN_Credential_Identity, `${ISS}#pilot-7`);
  assert.ok(Math.abs(Number(v.attrs.GLIDEIN_Credential_TimeLeft) - 3600) < 60);
  const short = await runValidation(node.view(), { credentialFile, credentialMinS: 7200 });
  assert.equal(short.failure?.class, "VO_Proxy");
  assert.ok(!short.failure?.message.includes(token.slice(0, 20)), "never the token");

  const cluster = await submit(env.client("alice"), [
    job({
      TransferExecutable: "false",
      Cmd: '"/bin/sh"',
      Arguments: "\"-c 'echo hi > out.txt'\"",
      TransferOutput: '"out.txt"',
      RequestMemory: "64",
    }),
  ]);
  const r = resolveSettings(
    {
      pilotId: "pilot-tokentest",
      workDir: join(dir, "work"),
      collector: collector.url,
      schedd: [env.schedd.url()],
      credential: credentialFile,
      trustDir: env.pki.caDir,
      maxWalltime: 3600,
      maxIdle: 2,
      grace: 5,
    },
    {},
    () => "unused",
  );
  assert.ok(r.ok, JSON.stringify(r));
  let output = "";
  const slotName = "slot1@pilot-tokentest@wn01.example.org";
  let writer: string | undefined;
  let stopped = false;
  const run = runPilotProcess(r.settings, { view: node.view(), write: (s) => (output += s) });
  const watching = (async () => {
    while (!stopped && writer === undefined) {
      const ads = await reader.query({ type: "Slot" });
      writer = ads.find((a) => a.Name === `"${slotName}"`)?.AuthenticatedIdentity;
      await new Promise((res) => setTimeout(res, 50));
    }
  })();
  const code = await within(run, "pilot run");
  stopped = true;
  await watching;
  assert.equal(code, 0, output);
  assert.equal(writer, JSON.stringify(`${ISS}#pilot-7`));
  const [done] = await env.client("alice").query({ ids: [`${cluster}.0`], history: true });
  assert.equal(done!.JobStatus, "4", output);
});
