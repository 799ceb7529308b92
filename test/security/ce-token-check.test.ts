/**
 * The checks a CE token passes before the frontend sends it or the factory uses it, as a table
 * of hostile tokens: each refusal names its check and never echoes the token.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { generateKeyPair, SignJWT } from "jose";
import { checkCeToken, MAX_CE_TOKEN_BYTES } from "../../src/security/ce-token-check.js";

const CE = "https://ce.example.org:443/arex";
const NOW = 1_800_000_000;
const { privateKey } = await generateKeyPair("RS256");

async function sign(
  claims: Record<string, unknown>,
  over: { aud?: string | string[]; exp?: number; nbf?: number } = {},
): Promise<string> {
  return new SignJWT({ sub: "vo-frontend", scope: "compute.create compute.read", ...claims })
    .setProtectedHeader({ alg: "RS256", typ: "JWT" })
    .setIssuer("https://iam.example.org")
    .setAudience(over.aud ?? CE)
    .setIssuedAt(NOW)
    .setNotBefore(over.nbf ?? NOW)
    .setExpirationTime(over.exp ?? NOW + 3600)
    .sign(privateKey);
}

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");

test("a token for the entry's CE passes and names its owner", async () => {
  const c = checkCeToken(await sign({}), CE, NOW);
  assert.deepEqual(c, { ok: true, exp: NOW + 3600, owner: "https://iam.example.org#vo-frontend" });
  const list = checkCeToken(await sign({}, { aud: ["https://x.example", CE] }), CE, NOW);
  assert.equal(list.ok, true);
});

test("hostile tokens are refused naming the check, never echoing the token", async () => {
  const good = await sign({});
  const [h, p, s] = good.split(".");
  const table: [string, string, RegExp][] = [
    ["another CE", await sign({}, { aud: "https://other.example:443/arex" }), /^audience/],
    [
      "the WLCG any audience",
      await sign({}, { aud: "https://wlcg.cern.ch/jwt/v1/any" }),
      /^audience/,
    ],
    ["expired", await sign({}, { exp: NOW - 10 }), /^expired/],
    ["expiring within the margin", await sign({}, { exp: NOW + 30 }), /^expired/],
    ["not yet valid", await sign({}, { nbf: NOW + 3600, exp: NOW + 7200 }), /^not yet valid/],
    ["alg none", `${b64({ alg: "none" })}.${p}.`, /^malformed|^algorithm/],
    ["alg none, signed part kept", `${b64({ alg: "none" })}.${p}.${s}`, /^algorithm/],
    ["HS256", `${b64({ alg: "HS256", typ: "JWT" })}.${p}.${s}`, /^algorithm/],
    ["no sub", await sign({ sub: undefined }), /^malformed: no iss or sub/],
    ["payload not JSON", `${h}.${Buffer.from("{x").toString("base64url")}.${s}`, /^malformed/],
    ["garbage", "not a token at all", /^malformed/],
    ["a header injection", `${h}.${p}.${s}\r\nX-Injected: 1`, /^malformed/],
    ["oversized", `${h}.${"A".repeat(MAX_CE_TOKEN_BYTES)}.${s}`, /^size/],
    ["no compute.create", await sign({ scope: "compute.read compute.cancel" }), /^scope/],
    ["a longer scope's prefix", await sign({ scope: "compute.created" }), /^scope/],
    ["neither scopes nor groups", await sign({ scope: undefined }), /^scope/],
    ["scope not a string", await sign({ scope: ["compute.create"] }), /^malformed/],
  ];
  for (const [what, token, reason] of table) {
    const c = checkCeToken(token, CE, NOW);
    assert.equal(c.ok, false, what);
    if (c.ok) continue;
    assert.match(c.reason, reason, what);
    assert.ok(
      !c.reason.includes(p!) && !c.reason.includes(s!),
      `${what}: the reason echoes the token`,
    );
  }
  const none = checkCeToken(good, "", NOW);
  assert.equal(none.ok, false, "an entry without a CE audience takes no token");
});

test("a token without scopes may submit by its wlcg.groups, as the WLCG profile allows", async () => {
  const c = checkCeToken(await sign({ scope: undefined, "wlcg.groups": ["/vo/pilots"] }), CE, NOW);
  assert.equal(c.ok, true);
});
