/**
 * The factory's checks on a frontend's CE token before any use, as a table of hostile tokens,
 * and the 0600 file it is kept in (in a 0700 client folder), replaced as newer tokens arrive.
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { generateKeyPair, SignJWT } from "jose";
import {
  checkSubmitToken,
  entryCeAudience,
  MAX_SUBMIT_TOKEN_BYTES,
  removeExpiredSubmitTokens,
  storeSubmitToken,
} from "../../src/factory/submit-tokens.js";

const CE = "https://ce.example.org:443/arex";
const NOW = 1_800_000_000;
const { privateKey } = await generateKeyPair("RS256");

async function sign(
  claims: Record<string, unknown>,
  over: { aud?: string | string[]; exp?: number; nbf?: number } = {},
): Promise<string> {
  return new SignJWT({ sub: "vo-frontend", ...claims })
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
  const c = checkSubmitToken(await sign({}), CE, NOW);
  assert.deepEqual(c, { ok: true, exp: NOW + 3600, owner: "https://iam.example.org#vo-frontend" });
  const list = checkSubmitToken(await sign({}, { aud: ["https://x.example", CE] }), CE, NOW);
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
    ["oversized", `${h}.${"A".repeat(MAX_SUBMIT_TOKEN_BYTES)}.${s}`, /^size/],
  ];
  for (const [what, token, reason] of table) {
    const c = checkSubmitToken(token, CE, NOW);
    assert.equal(c.ok, false, what);
    if (c.ok) continue;
    assert.match(c.reason, reason, what);
    assert.ok(
      !c.reason.includes(p!) && !c.reason.includes(s!),
      `${what}: the reason echoes the token`,
    );
  }
  const none = checkSubmitToken(good, "", NOW);
  assert.equal(none.ok, false, "an entry without a CE audience takes no token");
});

test("the CE audience is the gatekeeper's last word, else the ARC endpoint", () => {
  assert.equal(
    entryCeAudience({ gatekeeper: "ce.example.org ce.example.org:9619", adapter: {} }),
    "ce.example.org:9619",
  );
  assert.equal(entryCeAudience({ gatekeeper: "", adapter: { endpoint: `${CE}/` } }), CE);
  assert.equal(entryCeAudience({ gatekeeper: "  ", adapter: {} }), "");
});

test("the token is kept 0600 in a 0700 client folder, replaced by a newer one", async () => {
  const base = mkdtempSync(join(tmpdir(), "updraft-submit-token-"));
  after(() => rmSync(base, { recursive: true, force: true }));
  const first = await sign({});
  const file = storeSubmitToken(base, "fe.main", "arc1", first);
  assert.equal(file, join(base, "fe.main", "submit-token-arc1"));
  assert.equal(statSync(file).mode & 0o777, 0o600);
  assert.equal(statSync(join(base, "fe.main")).mode & 0o777, 0o700);
  assert.equal(readFileSync(file, "utf8"), `${first}\n`);
  const second = await sign({ jti: "2" });
  assert.equal(storeSubmitToken(base, "fe.main", "arc1", second), file);
  assert.equal(readFileSync(file, "utf8"), `${second}\n`);
  assert.equal(statSync(file).mode & 0o777, 0o600);
  // Names from the ad cannot leave the credential folder.
  const odd = storeSubmitToken(base, "../../etc", "../x", first);
  assert.equal(odd, join(base, ".._.._etc", "submit-token-.._x"));
});

test("expired, unreadable and torn CE tokens are deleted; live ones and other files stay", async () => {
  const base = mkdtempSync(join(tmpdir(), "updraft-submit-token-"));
  after(() => rmSync(base, { recursive: true, force: true }));
  const live = storeSubmitToken(base, "fe.a", "arc1", await sign({}, { exp: NOW + 100 }));
  const dead = storeSubmitToken(base, "fe.a", "arc2", await sign({}, { exp: NOW - 1 }));
  const junk = storeSubmitToken(base, "fe.b", "arc1", "not a token");
  const torn = `${live}.tmp`;
  writeFileSync(torn, "half", { mode: 0o600 });
  const other = join(base, "fe.a", "credential-0123456789abcdef");
  writeFileSync(other, "PROXY", { mode: 0o600 });
  assert.equal(removeExpiredSubmitTokens(base, NOW), 3);
  assert.ok(existsSync(live) && existsSync(other));
  assert.ok(!existsSync(dead) && !existsSync(junk) && !existsSync(torn));
  assert.equal(removeExpiredSubmitTokens(base, NOW + 100), 1, "the live one once it expires");
});
