/**
 * The CE audience of an entry, and the 0600 file a frontend's CE token is kept in (in a 0700
 * client folder), replaced as newer tokens arrive (the checks before any use are in
 * test/security/ce-token-check.test.ts).
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { generateKeyPair, SignJWT } from "jose";
import {
  entryCeAudience,
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
