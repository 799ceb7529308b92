/**
 * The factory's and frontend's own metrics listener takes bearer tokens when its block has a
 * `tokens` section, as the collector's and schedd's listeners do: a token whose rule gives it
 * `monitor` reads /metrics with no client certificate, a token of someone else gets 403, a
 * tampered one 401, and without the section no token is taken at all.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { Counter } from "prom-client";
import { loadTlsMaterial } from "../../src/common/tls-rpc.js";
import { initIssuerDir, issueToken } from "../../src/security/token-issuer.js";
import {
  type MetricsListener,
  metricsListenerSchema,
  startMetricsListener,
} from "../../src/wire/metrics-listener.js";
import { createDaemonRegistry } from "../../src/wire/metrics-route.js";
import { httpsGet } from "../helpers/https-get.js";
import { createTestPki, type TestPki } from "../helpers/pki.js";

const ISS = "https://monitoring.example.org/issuer";
const AUD = "https://factory.example.org:9621/";
let pki: TestPki;
let dir: string;
let jwksFile: string;
let withTokens: MetricsListener;
let withoutTokens: MetricsListener;

async function listen(tokens: boolean): Promise<MetricsListener> {
  const registry = createDaemonRegistry({ processMetrics: false });
  new Counter({ name: "updraft_factory_test_total", help: "t", registers: [registry] }).inc(7);
  const config = metricsListenerSchema.parse({
    listen: { port: 0 },
    authorization: { rules: [{ issuer: ISS, sub: "prometheus", roles: ["monitor"] }] },
    ...(tokens
      ? { tokens: { issuers: [{ issuer: ISS, jwks_file: jwksFile }], audiences: [AUD] } }
      : {}),
  });
  return startMetricsListener({
    config,
    registry,
    tls: loadTlsMaterial({
      cert_file: pki.host.certFile,
      key_file: pki.host.keyFile,
      trust_dir: pki.caDir,
    }),
  });
}

before(async () => {
  pki = createTestPki();
  dir = mkdtempSync(join(tmpdir(), "updraft-metrics-listener-token-"));
  const init = await initIssuerDir(dir, ISS);
  assert.ok(init.ok);
  jwksFile = init.dir.jwksFile;
  withTokens = await listen(true);
  withoutTokens = await listen(false);
});
after(async () => {
  await withTokens.close();
  await withoutTokens.close();
  pki.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

const tokenFor = (sub: string) => issueToken(dir, { sub, audiences: [AUD], lifetimeS: 300 });
const get = (l: MetricsListener, token: string) =>
  httpsGet({
    port: l.port(),
    path: "/metrics",
    ca: readFileSync(pki.caCertFile),
    headers: { Authorization: `Bearer ${token}` },
  });

test("a token with the monitor role reads the listener's /metrics without a certificate", async () => {
  const r = await get(withTokens, await tokenFor("prometheus"));
  assert.equal(r.status, 200);
  assert.match(r.body, /^updraft_factory_test_total 7$/m);
});

test("a token of someone the rules give no monitor role is refused 403", async () => {
  const r = await get(withTokens, await tokenFor("someone"));
  assert.equal(r.status, 403);
  assert.doesNotMatch(r.body, /updraft_factory/);
});

test("a tampered token is refused 401 and not echoed", async () => {
  const [h, , s] = (await tokenFor("prometheus")).split(".");
  const body = Buffer.from(JSON.stringify({ sub: "prometheus", iss: ISS, aud: AUD })).toString(
    "base64url",
  );
  const r = await get(withTokens, `${h}.${body}.${s}`);
  assert.equal(r.status, 401);
  assert.doesNotMatch(r.body, /updraft_factory/);
  assert.ok(!String(r.headers["x-updraft-reason"] ?? "").includes(s!), "the token is not echoed");
});

test("without a tokens section the listener takes no token, even a good one", async () => {
  const r = await get(withoutTokens, await tokenFor("prometheus"));
  assert.equal(r.status, 401);
  assert.doesNotMatch(r.body, /updraft_factory/);
});

test("a tokens section that names no audience is refused at start", async () => {
  const config = metricsListenerSchema.parse({
    listen: { port: 0 },
    tokens: { issuers: [{ issuer: ISS, jwks_file: jwksFile }] },
  });
  await assert.rejects(
    startMetricsListener({
      config,
      registry: createDaemonRegistry({ processMetrics: false }),
      tls: loadTlsMaterial({
        cert_file: pki.host.certFile,
        key_file: pki.host.keyFile,
        trust_dir: pki.caDir,
      }),
    }),
    /no audience names this daemon/,
  );
});
