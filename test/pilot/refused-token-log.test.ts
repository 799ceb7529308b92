/**
 * A pilot whose bearer token a real schedd and collector refuse logs the refusal: the check that
 * failed (here the issuer, one the pool does not trust) reaches the pilot's own log, from its
 * connections, and no part of the token does.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { test } from "node:test";
import { createLogger } from "../../src/common/logger.js";
import { runPilotProcess } from "../../src/pilot/pilot-main.js";
import { resolveSettings } from "../../src/pilot/settings.js";
import { initIssuerDir, issueToken } from "../../src/security/token-issuer.js";
import { hangGuard } from "../helpers/hang-guard.js";
import { startTestCollector } from "../helpers/pilot-collector.js";
import { DN, startEnv } from "../schedd/harness.js";
import { createNodeFixture } from "./node-fixture.js";

const TRUSTED = "https://frontend.pool.example.org/issuer";
const STRANGER = "https://elsewhere.example.org/issuer";

const within = hangGuard(60_000);

test("a refused token's check reaches the pilot's log, and the token does not", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "updraft-pilot-refused-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const trusted = await initIssuerDir(join(dir, "trusted"), TRUSTED);
  const stranger = await initIssuerDir(join(dir, "stranger"), STRANGER);
  assert.ok(trusted.ok && stranger.ok);
  const tokens = {
    issuers: [{ issuer: TRUSTED, jwks_file: trusted.dir.jwksFile }],
    accept_any_audience: true,
  };
  const pilotRule = { issuer: TRUSTED, group: "/vo/pilots", roles: ["pilot", "read"] };
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
  const collector = await startTestCollector(env.pki, [pilotRule], { tokens });
  t.after(() => collector.stop());

  // Well formed and in date, but from an issuer this pool does not trust.
  const token = await issueToken(join(dir, "stranger"), {
    sub: "pilot-9",
    audiences: ["https://wlcg.cern.ch/jwt/v1/any"],
    groups: ["/vo/pilots"],
    lifetimeS: 3600,
  });
  const credentialFile = join(dir, "pilot-token");
  writeFileSync(credentialFile, `${token}\n`, { mode: 0o600 });

  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  const log = createLogger({ name: "pilot", level: "info", destination: sink });
  const node = createNodeFixture();
  t.after(() => node.cleanup());
  const r = resolveSettings(
    {
      pilotId: "pilot-refused",
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
  await within(
    runPilotProcess(r.settings, { view: node.view(), write: (s) => (output += s), log }),
    "pilot run",
  );
  const text = lines.join("");
  const refusals = lines.filter((l) => l.includes("server refused the connection"));
  assert.ok(refusals.length > 0, `no refusal logged:\n${text}\n${output}`);
  for (const url of [collector.url, env.schedd.url()]) {
    assert.ok(
      refusals.some((l) => l.includes(JSON.stringify(url)) && l.includes("(check: issuer)")),
      `the refusal by ${url} names the check:\n${refusals.join("")}`,
    );
  }
  const [header, payload, signature] = token.split(".") as [string, string, string];
  for (const part of [header, payload, signature]) {
    assert.ok(!text.includes(part), "no part of the token is in the pilot's log");
  }
});
