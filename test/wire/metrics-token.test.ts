/**
 * HTTPS routes (the collector's and schedd's /metrics) take a bearer token as the upgrade does:
 * a scraper with a token whose rules give it `monitor` reads the page without a client
 * certificate; a token without that role gets 403, a bad token 401.
 */
import assert from "node:assert/strict";
import { request } from "node:https";
import { readFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { createAuthorizer } from "../../src/security/authz.js";
import { initIssuerDir, issueToken } from "../../src/security/token-issuer.js";
import { createIssuerKeySource } from "../../src/security/token-keys.js";
import { createTokenVerifier } from "../../src/security/token-verify.js";
import { createTestPki, startServer, type TestPki, type TestServer } from "./harness.js";

const ISS = "https://monitoring.example.org/issuer";
let pki: TestPki;
let ts: TestServer;
let dir: string;

before(async () => {
  pki = createTestPki();
  dir = mkdtempSync(join(tmpdir(), "updraft-metrics-token-"));
  const init = await initIssuerDir(dir, ISS);
  assert.ok(init.ok);
  ts = await startServer(pki, {
    tokenVerifier: createTokenVerifier({
      issuers: [createIssuerKeySource(ISS, { jwksFile: init.dir.jwksFile })],
      audiences: ["https://collector.example.org"],
    }),
    authorizer: createAuthorizer({
      rules: [{ issuer: ISS, sub: "prometheus", roles: ["monitor"] }],
      default_roles: [],
    }),
    httpRoutes: {
      "/metrics": {
        roles: ["monitor"],
        handler: async () => ({ contentType: "text/plain", body: "updraft_up 1\n" }),
      },
    },
  });
});
after(async () => {
  await ts.server.close();
  pki.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

function get(token: string): Promise<{ status: number; body: string; reason: string }> {
  const url = new URL(ts.url.replace("wss://", "https://"));
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        path: "/metrics",
        ca: readFileSync(pki.caCertFile),
        headers: { Authorization: `Bearer ${token}` },
      },
      (res) => {
        let body = "";
        res.on("data", (d: Buffer) => (body += d.toString()));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            body,
            reason: String(res.headers["x-updraft-reason"] ?? ""),
          }),
        );
      },
    );
    req.on("error", reject);
    req.end();
  });
}

const tokenFor = (sub: string) =>
  issueToken(dir, { sub, audiences: ["https://collector.example.org"], lifetimeS: 300 });

test("a scraper's token with the monitor role reads /metrics without a certificate", async () => {
  const r = await get(await tokenFor("prometheus"));
  assert.equal(r.status, 200);
  assert.equal(r.body, "updraft_up 1\n");
});

test("a token without the monitor role is refused 403; a changed one 401", async () => {
  const other = await get(await tokenFor("someone"));
  assert.equal(other.status, 403);
  const t = await tokenFor("prometheus");
  const [h, , s] = t.split(".");
  const forged = `${h}.${Buffer.from(JSON.stringify({ sub: "prometheus", iss: ISS })).toString("base64url")}.${s}`;
  const bad = await get(forged);
  assert.equal(bad.status, 401);
  // The check that failed is named (RFC 6750's challenge), never the token.
  assert.match(bad.reason, /bearer token was not accepted \(check: signature\)/);
  assert.ok(!bad.reason.includes(s!), "the token is not echoed");
});
