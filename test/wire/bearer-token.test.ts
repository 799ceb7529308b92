/**
 * Bearer tokens at a real listener's upgrade: a valid token without a client certificate gets
 * `<iss>#<sub>` and its roles; each hostile token is refused with the check that failed named in
 * the server's refusal metric and log, the peer told only that it was refused, and the token
 * appears in neither the refusal nor the server's log.
 */
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import type { IncomingMessage } from "node:http";
import {
  exportJWK,
  exportSPKI,
  generateKeyPair,
  SignJWT,
  type CryptoKey,
  type JWTPayload,
} from "jose";
import { WebSocket } from "ws";
import { createLogger } from "../../src/common/logger.js";
import { createAuthorizer } from "../../src/security/authz.js";
import { createIssuerKeySource } from "../../src/security/token-keys.js";
import { createTokenVerifier } from "../../src/security/token-verify.js";
import { Registry } from "prom-client";
import { metricsRoute } from "../../src/wire/metrics-route.js";
import { httpsGet } from "../helpers/https-get.js";
import { createTestPki, startServer, type TestPki, type TestServer } from "./harness.js";

const ISS = "https://issuer.example.org";
const refusedBy: string[] = [];
const logLines: string[] = [];
let pki: TestPki;
let ts: TestServer;
let key: CryptoKey;
let foreign: CryptoKey;
let publicPem: string;
const scraped = new Registry();

before(async () => {
  pki = createTestPki();
  const pair = await generateKeyPair("ES256", { extractable: true });
  key = pair.privateKey;
  publicPem = await exportSPKI(pair.publicKey);
  foreign = (await generateKeyPair("ES256")).privateKey;
  const jwks = join(pki.dir, "jwks.json");
  writeFileSync(
    jwks,
    JSON.stringify({ keys: [{ ...(await exportJWK(pair.publicKey)), kid: "k1", alg: "ES256" }] }),
  );
  ts = await startServer(pki, {
    observer: { callDone: () => undefined, refused: (c) => void refusedBy.push(c) },
    logger: createLogger({
      name: "bearer-token-test",
      level: "debug",
      destination: { write: (l: string) => void logLines.push(l) },
    }),
    tokenVerifier: createTokenVerifier({
      issuers: [createIssuerKeySource(ISS, { jwksFile: jwks })],
      audiences: ["https://schedd.example.org"],
    }),
    authorizer: createAuthorizer({
      rules: [
        { identity: `${ISS}#alice`, roles: ["user"] },
        { identity: `${ISS}#prometheus`, roles: ["monitor"] },
      ],
      default_roles: [],
    }),
    httpRoutes: metricsRoute(scraped),
  });
});
after(async () => {
  await ts.server.close();
  pki.cleanup();
});

function claims(over: JWTPayload = {}): JWTPayload {
  const now = Math.floor(Date.now() / 1000);
  return {
    iss: ISS,
    sub: "alice",
    aud: "https://schedd.example.org",
    iat: now,
    nbf: now,
    exp: now + 600,
    "wlcg.ver": "1.0",
    ...over,
  };
}
const sign = (p: JWTPayload, k: CryptoKey = key, kid = "k1") =>
  new SignJWT(p).setProtectedHeader({ alg: "ES256", kid }).sign(k);
const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString("base64url");

type Outcome =
  { open: true; ws: WebSocket } | { open: false; status: number; code: string; reason: string };

function upgrade(token: string): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(ts.url, {
      ca: readFileSync(pki.caCertFile),
      headers: { Authorization: `Bearer ${token}` },
    });
    ws.on("open", () => resolve({ open: true, ws }));
    ws.on("unexpected-response", (_req, res: IncomingMessage) => {
      resolve({
        open: false,
        status: res.statusCode ?? 0,
        code: String(res.headers["x-updraft-error"]),
        reason: String(res.headers["x-updraft-reason"]),
      });
      res.resume();
    });
    ws.on("error", reject);
  });
}

test("a valid token without a client certificate opens a connection", async () => {
  const o = await upgrade(await sign(claims()));
  assert.ok(o.open, JSON.stringify(o));
  o.ws.close();
});

test("a valid token whose identity has no role is refused 403", async () => {
  const o = await upgrade(await sign(claims({ sub: "mallory" })));
  assert.ok(!o.open);
  assert.equal(o.status, 403);
  assert.match(o.reason, /#mallory' has no role/);
});

test("each hostile token is refused 401, the server naming the check, the peer told nothing more", async () => {
  const now = Math.floor(Date.now() / 1000);
  const good = await sign(claims());
  const [h, , sig] = good.split(".");
  const hsInput = `${b64({ alg: "HS256", kid: "k1" })}.${b64(claims())}`;
  const cases: [string, string, string][] = [
    [
      "expired",
      await sign(claims({ iat: now - 7200, nbf: now - 7200, exp: now - 3600 })),
      "expired",
    ],
    ["not yet valid", await sign(claims({ nbf: now + 3600, exp: now + 7200 })), "not-yet-valid"],
    ["wrong audience", await sign(claims({ aud: "https://other.example.org" })), "audience"],
    ["wrong issuer", await sign(claims({ iss: "https://evil.example.org" })), "issuer"],
    ["alg none", `${b64({ alg: "none" })}.${b64(claims())}.`, "algorithm"],
    [
      "HS256 with the public key",
      `${hsInput}.${createHmac("sha256", publicPem).update(hsInput).digest("base64url")}`,
      "algorithm",
    ],
    ["unknown kid", await sign(claims(), key, "k9"), "unknown-key"],
    ["payload changed", `${h}.${b64(claims({ sub: "root" }))}.${sig}`, "signature"],
    ["foreign key", await sign(claims(), foreign), "signature"],
    ["oversized", `${h}.${"A".repeat(9000)}.${sig}`, "size"],
    ["garbage", "garbage", "malformed"],
  ];
  for (const [name, token, check] of cases) {
    const o = await upgrade(token);
    assert.ok(!o.open, name);
    assert.equal(o.status, 401, name);
    assert.equal(o.code, "unauthenticated", name);
    assert.match(o.reason, /bearer token was not accepted/, `${name}: ${o.reason}`);
    assert.equal(refusedBy.at(-1), `token-${check}`, name);
    assert.ok(!o.reason.includes(token.slice(-16)), name);
  }
  // The server's log says why (never with the token); the peer was told only the above.
  const log = logLines.join("");
  assert.match(log, /token (expired|not-yet-valid|audience|issuer|algorithm|signature|size)/);
  for (const [name, token] of cases) {
    const secret = token.split(".")[2] || token;
    if (secret.length >= 16) assert.ok(!log.includes(secret), `${name}: the token is in the log`);
  }
  // The daemon still serves after the table.
  const ok = await upgrade(good);
  assert.ok(ok.open);
  ok.ws.close();
});

test("GET /metrics takes a bearer token: monitor role 200, other roles 403, bad token 401", async () => {
  const ca = readFileSync(pki.caCertFile);
  const get = async (token: string) =>
    httpsGet({
      port: ts.server.address().port,
      path: "/metrics",
      ca,
      headers: { Authorization: `Bearer ${token}` },
    });
  const ok = await get(await sign(claims({ sub: "prometheus" })));
  assert.equal(ok.status, 200);
  assert.match(String(ok.headers["content-type"]), /^text\/plain/);
  const user = await get(await sign(claims()));
  assert.equal(user.status, 403);
  assert.match(String(user.headers["x-updraft-reason"]), /lacks role monitor or admin/);
  const forged = await sign(claims({ sub: "prometheus" }), foreign);
  const bad = await get(forged);
  assert.equal(bad.status, 401);
  assert.ok(!String(bad.headers["x-updraft-reason"]).includes(forged));
});
