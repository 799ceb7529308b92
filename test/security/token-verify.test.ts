/** Bearer-token verification: the accepted profiles, each hostile token's named refusal, the cache. */
import assert from "node:assert/strict";
import { createHmac, randomUUID } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import {
  exportJWK,
  exportSPKI,
  generateKeyPair,
  SignJWT,
  type CryptoKey,
  type GenerateKeyPairResult,
  type JWTPayload,
} from "jose";
import { createIssuerKeySource } from "../../src/security/token-keys.js";
import {
  createTokenVerifier,
  hasScope,
  WLCG_ANY_AUDIENCE,
  type TokenVerifier,
} from "../../src/security/token-verify.js";

const ISS = "https://issuer.example.org";
const AUD = "https://schedd.example.org:9618";
let dir: string;
let es: GenerateKeyPairResult;
let rs: GenerateKeyPairResult;
let foreign: GenerateKeyPairResult;
let esPublicPem: string;
let verifier: TokenVerifier;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "updraft-token-"));
  es = await generateKeyPair("ES256", { extractable: true });
  rs = await generateKeyPair("RS256", { extractable: true, modulusLength: 2048 });
  foreign = await generateKeyPair("ES256");
  esPublicPem = await exportSPKI(es.publicKey);
  const jwks = {
    keys: [
      { ...(await exportJWK(es.publicKey)), kid: "es1", alg: "ES256", use: "sig" },
      { ...(await exportJWK(rs.publicKey)), kid: "rs1", alg: "RS256", use: "sig" },
    ],
  };
  writeFileSync(join(dir, "jwks.json"), JSON.stringify(jwks), { mode: 0o600 });
  verifier = createTokenVerifier({
    issuers: [createIssuerKeySource(ISS, { jwksFile: join(dir, "jwks.json") })],
    audiences: [AUD],
    acceptAnyAudience: true,
  });
});
after(() => rmSync(dir, { recursive: true, force: true }));

function claims(over: JWTPayload = {}): JWTPayload {
  const now = Math.floor(Date.now() / 1000);
  return {
    iss: ISS,
    sub: "alice",
    aud: AUD,
    iat: now,
    nbf: now,
    exp: now + 600,
    jti: randomUUID(),
    "wlcg.ver": "1.0",
    scope: "compute.read compute.create",
    "wlcg.groups": ["/cms", "/cms/prod"],
    ...over,
  };
}

async function sign(
  payload: JWTPayload,
  key: CryptoKey = es.privateKey,
  header: { alg: string; kid?: string } = { alg: "ES256", kid: "es1" },
): Promise<string> {
  return new SignJWT(payload).setProtectedHeader({ typ: "JWT", ...header }).sign(key);
}

function b64(o: unknown): string {
  return Buffer.from(JSON.stringify(o)).toString("base64url");
}

test("a WLCG token signed ES256 is accepted with identity <iss>#<sub>, scopes and groups", async () => {
  const v = await verifier.verify(await sign(claims()));
  assert.ok(v.ok, JSON.stringify(v));
  assert.equal(v.claims.identity, `${ISS}#alice`);
  assert.equal(v.claims.profile, "wlcg");
  assert.deepEqual(v.claims.groups, ["/cms", "/cms/prod"]);
  assert.ok(hasScope(v.claims, "compute.read"));
  assert.ok(!hasScope(v.claims, "compute.cancel"));
});

test("a SciTokens 2.0 token signed RS256 for the WLCG any audience is accepted", async () => {
  const p = claims({ aud: WLCG_ANY_AUDIENCE, ver: "scitoken:2.0", scope: "compute.cancel" });
  delete p["wlcg.ver"];
  const v = await verifier.verify(await sign(p, rs.privateKey, { alg: "RS256", kid: "rs1" }));
  assert.ok(v.ok, JSON.stringify(v));
  assert.equal(v.claims.profile, "scitokens");
  assert.ok(hasScope(v.claims, "compute.cancel"));
});

test("the WLCG any audience is refused unless configured", async () => {
  const strict = createTokenVerifier({
    issuers: [createIssuerKeySource(ISS, { jwksFile: join(dir, "jwks.json") })],
    audiences: [AUD],
  });
  const v = await strict.verify(await sign(claims({ aud: WLCG_ANY_AUDIENCE })));
  assert.equal(v.ok ? "accepted" : v.code, "audience");
});

test("each hostile token is refused with the check that failed, never echoing the token", async () => {
  const now = Math.floor(Date.now() / 1000);
  const good = await sign(claims());
  const [h, p] = good.split(".");
  const hs256 = `${b64({ alg: "HS256", kid: "es1", typ: "JWT" })}.${b64(claims())}`;
  const hsSig = createHmac("sha256", esPublicPem).update(hs256).digest("base64url");
  const cases: [string, string | Promise<string>, string][] = [
    ["expired", sign(claims({ iat: now - 7200, nbf: now - 7200, exp: now - 3600 })), "expired"],
    ["not yet valid", sign(claims({ nbf: now + 3600, exp: now + 7200 })), "not-yet-valid"],
    [
      "issued in the future, no nbf",
      sign(claims({ iat: now + 3600, nbf: undefined, exp: now + 7200 })),
      "not-yet-valid",
    ],
    ["wrong audience", sign(claims({ aud: "https://other.example.org" })), "audience"],
    ["wrong issuer", sign(claims({ iss: "https://evil.example.org" })), "issuer"],
    ["alg none", `${b64({ alg: "none", typ: "JWT" })}.${b64(claims())}.`, "algorithm"],
    ["HS256 keyed with the public key", `${hs256}.${hsSig}`, "algorithm"],
    ["unknown kid", sign(claims(), es.privateKey, { alg: "ES256", kid: "nope" }), "unknown-key"],
    [
      "payload changed after signing",
      `${h}.${b64(claims({ sub: "root" }))}.${good.split(".")[2]}`,
      "signature",
    ],
    ["foreign key", sign(claims(), foreign.privateKey), "signature"],
    ["no profile marker", sign(claims({ "wlcg.ver": undefined })), "malformed"],
    ["no sub", sign(claims({ sub: undefined })), "malformed"],
    ["oversized", `${h}.${"A".repeat(10_000)}.${p}`, "size"],
    ["garbage", "not-a-token", "malformed"],
    ["empty", "", "malformed"],
    ["four parts", `${good}.x`, "malformed"],
  ];
  for (const [name, tok, code] of cases) {
    const token = await tok;
    const v = await verifier.verify(token);
    assert.equal(v.ok ? "accepted" : v.code, code, name);
    if (!v.ok && token.length > 20) assert.ok(!v.reason.includes(token.slice(-20)), name);
  }
});

test("a missing scope is the caller's refusal: hasScope says no", async () => {
  const v = await verifier.verify(await sign(claims({ scope: "storage.read:/" })));
  assert.ok(v.ok);
  assert.ok(!hasScope(v.claims, "compute.create"));
});

test("a flood of one bad token is served from the cache", async () => {
  const bad = await sign(claims(), foreign.privateKey);
  const first = await verifier.verify(bad);
  assert.equal(first.ok ? "accepted" : first.code, "signature");
  const size = verifier.cache.size;
  for (let i = 0; i < 1000; i++) {
    const v = await verifier.verify(bad);
    assert.equal(v.ok ? "accepted" : v.code, "signature");
  }
  assert.equal(verifier.cache.size, size);
});

test("an accepted verdict is not served after the token expires", async () => {
  let t = Date.now();
  const v2 = createTokenVerifier({
    issuers: [createIssuerKeySource(ISS, { jwksFile: join(dir, "jwks.json"), now: () => t })],
    audiences: [AUD],
    leewayS: 0,
    now: () => t,
  });
  const s = Math.floor(t / 1000);
  const token = await sign(claims({ iat: s, nbf: s, exp: s + 30 }));
  assert.ok((await v2.verify(token)).ok);
  t += 31_000;
  const later = await v2.verify(token);
  assert.equal(later.ok ? "accepted" : later.code, "expired");
});

test("unknown kids reload the JWKS at most once per refresh interval; a rotated key is then found", async () => {
  let t = Date.now();
  const file = join(dir, "rotating.json");
  writeFileSync(
    file,
    JSON.stringify({ keys: [{ ...(await exportJWK(es.publicKey)), kid: "es1" }] }),
  );
  const source = createIssuerKeySource(ISS, { jwksFile: file, refreshMinS: 60, now: () => t });
  const v3 = createTokenVerifier({ issuers: [source], audiences: [AUD], now: () => t });
  assert.ok((await v3.verify(await sign(claims()))).ok);
  assert.equal(source.loads, 1);
  for (let i = 0; i < 50; i++) {
    const v = await v3.verify(await sign(claims(), es.privateKey, { alg: "ES256", kid: `k${i}` }));
    assert.equal(v.ok ? "accepted" : v.code, "unknown-key");
  }
  assert.equal(source.loads, 1);
  const next = await generateKeyPair("ES256", { extractable: true });
  writeFileSync(
    file,
    JSON.stringify({
      keys: [
        { ...(await exportJWK(es.publicKey)), kid: "es1" },
        { ...(await exportJWK(next.publicKey)), kid: "es2" },
      ],
    }),
  );
  t += 61_000;
  const rotated = await v3.verify(
    await sign(claims(), next.privateKey, { alg: "ES256", kid: "es2" }),
  );
  assert.ok(rotated.ok, JSON.stringify(rotated));
  assert.equal(source.loads, 2);
});

test("a JWKS with a symmetric (oct) key does not let HS256 through", async () => {
  const file = join(dir, "oct.json");
  const secret = Buffer.from("shared-secret-shared-secret-32by").toString("base64url");
  writeFileSync(file, JSON.stringify({ keys: [{ kty: "oct", k: secret, kid: "h1" }] }));
  const v4 = createTokenVerifier({
    issuers: [createIssuerKeySource(ISS, { jwksFile: file })],
    audiences: [AUD],
  });
  const input = `${b64({ alg: "HS256", kid: "h1" })}.${b64(claims())}`;
  const sig = createHmac("sha256", Buffer.from(secret, "base64url"))
    .update(input)
    .digest("base64url");
  const v = await v4.verify(`${input}.${sig}`);
  assert.equal(v.ok ? "accepted" : v.code, "algorithm");
});
