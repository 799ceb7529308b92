/** `updraft token init|issue|info`: files and modes, tokens the verifier accepts, plain errors. */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { createIssuerKeySource } from "../../src/security/token-keys.js";
import { createTokenVerifier } from "../../src/security/token-verify.js";
import { updraft, updraftOk } from "./cli.js";

const ISS = "https://issuer.test.example";
let work: string;
let dir: string;
before(() => {
  work = mkdtempSync(join(tmpdir(), "updraft-token-cli-"));
  dir = join(work, "tokens");
  updraftOk(["token", "init", "--dir", dir, "--issuer", ISS]);
});
after(() => rmSync(work, { recursive: true, force: true }));

test("init writes a private PKCS#8 key, a JWKS with a kid and the issuer; never overwrites", () => {
  assert.equal(statSync(dir).mode & 0o777, 0o700);
  assert.equal(statSync(join(dir, "signing-key.pem")).mode & 0o777, 0o600);
  assert.match(readFileSync(join(dir, "signing-key.pem"), "utf8"), /^-----BEGIN PRIVATE KEY-----/);
  const jwks = JSON.parse(readFileSync(join(dir, "jwks.json"), "utf8")) as {
    keys: { kid: string; d?: string }[];
  };
  assert.equal(jwks.keys.length, 1);
  assert.ok(jwks.keys[0].kid.length > 0);
  assert.equal(jwks.keys[0].d, undefined);
  assert.equal(readFileSync(join(dir, "issuer"), "utf8"), `${ISS}\n`);
  const again = updraft(["token", "init", "--dir", dir]);
  assert.equal(again.status, 1);
  assert.match(again.stderr, /exists; remove it/);
});

test("issue prints a token the verifier accepts with the asked sub, audiences, scope and groups", async () => {
  const out = updraftOk([
    "token",
    "issue",
    "--dir",
    dir,
    "--sub",
    "alice",
    "--aud",
    "https://a.example:1",
    "--aud",
    "https://b.example:2",
    "--scope",
    "compute.read compute.create",
    "--groups",
    "/cms,/cms/prod",
    "--lifetime",
    "120",
  ]);
  const verifier = createTokenVerifier({
    issuers: [createIssuerKeySource(ISS, { jwksFile: join(dir, "jwks.json") })],
    audiences: ["https://b.example:2"],
  });
  const v = await verifier.verify(out.trim());
  assert.ok(v.ok, JSON.stringify(v));
  assert.equal(v.claims.identity, `${ISS}#alice`);
  assert.deepEqual(v.claims.scopes, ["compute.read", "compute.create"]);
  assert.deepEqual(v.claims.groups, ["/cms", "/cms/prod"]);
  assert.ok(Math.abs(v.claims.exp - Date.now() / 1000 - 120) < 5);
});

test("issue --out writes the token 0600; info shows claims, expiry and that it did not verify", () => {
  const file = join(work, "alice.token");
  assert.equal(updraftOk(["token", "issue", "--dir", dir, "--sub", "bob", "--out", file]), "");
  assert.equal(statSync(file).mode & 0o777, 0o600);
  const info = updraftOk(["token", "info", file]);
  assert.match(info, /"sub": "bob"/);
  assert.match(info, /"aud": "https:\/\/wlcg\.cern\.ch\/jwt\/v1\/any"/);
  assert.match(info, /expires {3}: .* \(in \d+ s\)/);
  assert.match(info, /NOT verified/);
  const viaEnv = updraftOk(["token", "info"], { BEARER_TOKEN_FILE: file, BEARER_TOKEN: "" });
  assert.match(viaEnv, /"sub": "bob"/);
});

test("bad input gets one plain line telling what to do", () => {
  const none = updraft(["token", "issue", "--dir", join(work, "nowhere"), "--sub", "x"]);
  assert.equal(none.status, 1);
  assert.match(none.stderr, /run updraft token init --dir/);
  const groups = updraft(["token", "issue", "--dir", dir, "--sub", "x", "--groups", "cms"]);
  assert.notEqual(groups.status, 0);
  assert.match(groups.stderr, /each group starts with \//);
  const garbage = join(work, "garbage");
  updraftOk(["token", "issue", "--dir", dir, "--sub", "x", "--out", garbage]);
  const bad = updraft(["token", "info", join(work, "missing")]);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /no such file/);
  const huge = join(work, "huge");
  writeFileSync(huge, "A".repeat(2 << 20));
  const big = updraft(["token", "info", huge]);
  assert.equal(big.status, 1);
  assert.match(big.stderr, /cannot read the token .*huge: .*larger than 1 MiB/);
});

test("revoke appends pilot ids to the revocation file once, and refuses what is not an id", () => {
  const file = join(work, "revoked-pilots");
  const out = updraftOk(["token", "revoke", "--file", file, "p-1", "p-2"]);
  assert.match(out, /pilot p-1 revoked in/);
  const again = updraftOk(["token", "revoke", "--file", file, "p-2", "p-3"]);
  assert.match(again, /pilot p-2 was already revoked/);
  assert.equal(readFileSync(file, "utf8"), "p-1\np-2\np-3\n");
  const bad = updraft(["token", "revoke", "--file", file, "../etc/passwd"]);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /is not a pilot id/);
  assert.equal(readFileSync(file, "utf8"), "p-1\np-2\np-3\n", "nothing written for a bad id");
});

test("init --alg RS256 makes an RSA issuer whose tokens the verifier accepts; other algs refused", async () => {
  const rsa = join(work, "rsa");
  updraftOk(["token", "init", "--dir", rsa, "--issuer", ISS, "--alg", "RS256"]);
  const jwks = JSON.parse(readFileSync(join(rsa, "jwks.json"), "utf8")) as {
    keys: { kty: string; alg: string; d?: string }[];
  };
  assert.equal(jwks.keys[0]?.kty, "RSA");
  assert.equal(jwks.keys[0]?.alg, "RS256");
  assert.equal(jwks.keys[0]?.d, undefined, "no private part published");
  const file = join(work, "carol.token");
  updraftOk(["token", "issue", "--dir", rsa, "--sub", "carol", "--out", file]);
  assert.match(updraftOk(["token", "info", file]), /"alg":"RS256"/);
  const out = readFileSync(file, "utf8");
  const verifier = createTokenVerifier({
    issuers: [createIssuerKeySource(ISS, { jwksFile: join(rsa, "jwks.json") })],
    audiences: [],
    acceptAnyAudience: true,
  });
  const v = await verifier.verify(out.trim());
  assert.ok(v.ok, JSON.stringify(v));
  const bad = updraft(["token", "init", "--dir", join(work, "hs"), "--alg", "HS256"]);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /--alg HS256: use one of ES256, RS256/);
});
