/**
 * Bearer tokens at a real listener's upgrade: a valid token without a client certificate gets
 * `<iss>#<sub>` and its roles; each hostile token is refused with the check that failed named in
 * the RFC 6750 challenge (`WWW-Authenticate`), in the real client's message, and in the server's
 * refusal metric and log, and the token appears in none of them. Claims that carry CR, LF or
 * quotes cannot add a header or words to the challenge.
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
import { loadClientCredentials } from "../../src/wire/client-tls.js";
import { isWireError } from "../../src/wire/errors.js";
import { Registry } from "prom-client";
import { metricsRoute } from "../../src/wire/metrics-route.js";
import { httpsGet } from "../helpers/https-get.js";
import { connect as tlsConnect } from "node:tls";
import { connect, createTestPki, startServer, type TestPki, type TestServer } from "./harness.js";

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
        { issuer: ISS, sub: "carol", scope: "compute.read", roles: ["user"] },
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
  | { open: true; ws: WebSocket }
  | { open: false; status: number; code: string; reason: string; challenge: string };

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
        challenge: String(res.headers["www-authenticate"]),
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

test("a valid token whose identity has no role is refused 403, insufficient_scope", async () => {
  const o = await upgrade(await sign(claims({ sub: "mallory" })));
  assert.ok(!o.open);
  assert.equal(o.status, 403);
  assert.match(o.reason, /#mallory' has no role/);
  assert.equal(o.challenge, 'Bearer error="insufficient_scope", error_description="role"');
});

/** The real client's error for `token`, sent as a hostile client would (no check of its own). */
async function clientRefusal(
  token: string,
): Promise<{ code: string; message: string; check?: string }> {
  const rpc = connect(ts, pki, {
    credentials: loadClientCredentials({ bearerToken: () => token, caDir: pki.caDir }),
  });
  try {
    await rpc.call("test.Echo", Buffer.from("x"), { deadlineMs: 20_000 });
    assert.fail("the call went through");
  } catch (err) {
    assert.ok(isWireError(err), String(err));
    return { code: err.code, message: err.message, check: err.details.tokenCheck };
  } finally {
    await rpc.close();
  }
}

test("each hostile token is refused, the check named in the challenge, the client's message and the log, never the token", async () => {
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
    ["missing scope", await sign(claims({ sub: "carol", scope: "compute.create" })), "scope"],
  ];
  // What the client says next for each check: the words a person acts on.
  const next: Record<string, RegExp> = {
    expired: /has expired; get a new one with `updraft token issue` or from your VO's IAM/,
    "not-yet-valid": /not valid yet; check the clocks/,
    audience: /audience does not name this service; get one whose aud names this service's URL/,
    issuer: /issuer is not one this service trusts/,
    algorithm: /algorithm this service does not take \(ES256 or RS256 only\); get one signed/,
    "unknown-key": /no key with the token's kid; get a new one/,
    signature: /signature does not verify with its issuer's key; it was altered/,
    size: /longer than this service accepts; get a smaller one/,
    malformed: /not a well-formed WLCG or SciTokens token; look at it with `updraft token info`/,
    scope:
      /lacks the scope this service requires \(compute\.read\) \('\S+#carol' has no role here\); get one with that scope/,
  };
  const seen: string[] = [];
  for (const [name, token, check] of cases) {
    const scoped = check === "scope";
    const o = await upgrade(token);
    assert.ok(!o.open, name);
    assert.equal(o.status, scoped ? 403 : 401, name);
    assert.equal(o.code, scoped ? "permission-denied" : "unauthenticated", name);
    assert.equal(
      o.challenge,
      scoped
        ? 'Bearer error="insufficient_scope", error_description="scope", scope="compute.read"'
        : `Bearer error="invalid_token", error_description="${check}"`,
      name,
    );
    if (!scoped) assert.match(o.reason, new RegExp(`not accepted \\(check: ${check}\\)`), name);
    assert.equal(refusedBy.at(-1), scoped ? "no-role" : `token-${check}`, name);
    const c = await clientRefusal(token);
    assert.equal(c.code, o.code, name);
    assert.equal(c.check, check, name);
    assert.match(c.message, new RegExp(`\\(check: ${check}\\)`), `${name}: ${c.message}`);
    assert.match(c.message, next[check]!, `${name}: ${c.message}`);
    seen.push(o.reason, o.challenge, c.message);
  }
  // No part of any token is in what the peer was told or in the server's log; the log names
  // the check with the verifier's reason.
  const log = logLines.join("");
  assert.match(log, /token (expired|not-yet-valid|audience|issuer|algorithm|signature|size)/);
  for (const [name, token] of cases) {
    for (const part of token.split(".").filter((p) => p.length >= 16)) {
      assert.ok(!log.includes(part), `${name}: the token is in the log`);
      for (const told of seen) assert.ok(!told.includes(part), `${name}: told ${told}`);
    }
  }
  // The daemon still serves after the table.
  const ok = await upgrade(good);
  assert.ok(ok.open);
  ok.ws.close();
});

/** The refusal's raw response head, read off the socket: its status line and header lines. */
function rawUpgrade(token: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({
      port: ts.server.address().port,
      host: "127.0.0.1",
      servername: "localhost",
      ca: readFileSync(pki.caCertFile),
    });
    const chunks: Buffer[] = [];
    socket.on("secureConnect", () =>
      socket.write(
        "GET / HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n" +
          `Authorization: Bearer ${token}\r\n\r\n`,
      ),
    );
    socket.on("data", (d: Buffer) => chunks.push(d));
    socket.on("error", reject);
    socket.on("close", () => {
      const text = Buffer.concat(chunks).toString("latin1");
      resolve(text.slice(0, text.indexOf("\r\n\r\n")).split("\r\n"));
    });
  });
}

test("claims with CR, LF and quotes add no header and no words to the challenge", async () => {
  const evil = '"\r\nX-Injected: 1\r\n\r\n<b>';
  const cases: [string, string, number, string][] = [
    ["issuer", await sign(claims({ iss: `https://evil.example.org${evil}` })), 401, "issuer"],
    ["kid", await sign(claims(), key, `k1${evil}`), 401, "unknown-key"],
    ["audience", await sign(claims({ aud: [`https://x${evil}`] })), 401, "audience"],
    [
      "alg",
      `${b64({ alg: `ES256${evil}`, kid: "k1" })}.${b64(claims())}.${"A".repeat(86)}`,
      401,
      "algorithm",
    ],
    ["sub without a role", await sign(claims({ sub: `mallory${evil}` })), 403, "role"],
  ];
  for (const [name, token, status, check] of cases) {
    const [statusLine, ...headers] = await rawUpgrade(token);
    assert.match(statusLine!, new RegExp(`^HTTP/1\\.1 ${status} `), name);
    for (const h of headers) assert.match(h, /^[A-Za-z-]+: [\x20-\x7e]*$/, `${name}: ${h}`);
    assert.ok(!headers.some((h) => /^x-injected/i.test(h)), `${name}: ${headers.join(" | ")}`);
    const challenges = headers.filter((h) => /^www-authenticate:/i.test(h));
    const error = status === 403 ? "insufficient_scope" : "invalid_token";
    assert.deepEqual(
      challenges,
      [`WWW-Authenticate: Bearer error="${error}", error_description="${check}"`],
      name,
    );
  }
});

test("a listener that takes no tokens names that, and the client says to use a certificate", async () => {
  const plain = await startServer(pki);
  try {
    const rpc = connect(plain, pki, {
      credentials: loadClientCredentials({
        bearerToken: await sign(claims()),
        caDir: pki.caDir,
      }),
    });
    await assert.rejects(rpc.call("test.Echo", Buffer.from("x")), (err: unknown) => {
      assert.ok(isWireError(err));
      assert.equal(err.details.tokenCheck, "unsupported");
      assert.match(err.message, /this service takes no bearer tokens; use a certificate or proxy/);
      return true;
    });
    await rpc.close();
  } finally {
    await plain.server.close();
  }
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
  assert.equal(
    user.headers["www-authenticate"],
    'Bearer error="insufficient_scope", error_description="role"',
  );
  const bad = await get(forged);
  assert.equal(bad.status, 401);
  assert.equal(
    bad.headers["www-authenticate"],
    'Bearer error="invalid_token", error_description="signature"',
  );
  assert.ok(!String(bad.headers["x-updraft-reason"]).includes(forged.split(".")[2]!));
});
