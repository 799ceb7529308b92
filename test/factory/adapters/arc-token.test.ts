/**
 * The ARC adapter's REST client with a bearer token instead of a certificate, at a real A-REX
 * 6.17 whose `authtokens` admits one issuer (`updraft token init --alg RS256`: A-REX 6.17 refuses
 * ES256 tokens with 403), the issuer's keys fetched by A-REX from a local HTTPS issuer this test
 * starts (`/.well-known/openid-configuration`, then `jwks_uri`). A job submitted
 * with the issuer's RS256 token is created; a token signed by a key the issuer does not publish is
 * refused, and so is a token file that is not a JWT, before anything is sent.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { generateKeyPair, SignJWT, type CryptoKey } from "jose";
import { createArcRestClient } from "../../../src/factory/adapters/arc/rest-client.js";
import { parseArcSettings } from "../../../src/factory/adapters/arc/settings.js";
import { startArcPeer, type ArcPeer } from "../../helpers/arc-peer.js";
import { startHttpsIssuer, type HttpsIssuer } from "../../helpers/https-issuer.js";
import { createTestPki } from "../../helpers/pki.js";

const pki = createTestPki();
const dir = mkdtempSync(join(tmpdir(), "updraft-arc-token-"));
let issuer: HttpsIssuer;
let kid = "";
let arc: ArcPeer;

/** A token of the right shape signed by `key`, which the issuer does not publish. */
async function token(key: CryptoKey, file: string): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const jwt = await new SignJWT({ scope: "compute.create compute.read", "wlcg.ver": "1.0" })
    .setProtectedHeader({
      alg: "RS256",
      kid,
      typ: "JWT",
    })
    .setIssuer(issuer.url)
    .setSubject("factory")
    .setAudience(arc.endpoint)
    .setIssuedAt(now)
    .setNotBefore(now)
    .setExpirationTime(now + 600)
    .setJti(file)
    .sign(key);
  const path = join(dir, file);
  writeFileSync(path, `${jwt}\n`, { mode: 0o600 });
  return path;
}

const client = (tokenFile: string) =>
  createArcRestClient(
    parseArcSettings({ endpoint: arc.endpoint, ca_dir: pki.caDir, client_token: tokenFile }),
  );

before(async () => {
  issuer = await startHttpsIssuer(pki, dir);
  const jwks = JSON.parse(readFileSync(join(issuer.dir, "jwks.json"), "utf8")) as {
    keys: { kid: string }[];
  };
  kid = jwks.keys[0]!.kid;
  arc = await startArcPeer({ pki, allowedDns: [], tokenIssuer: issuer.url });
});
after(async () => {
  await arc?.stop();
  issuer?.close();
  pki.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

test("a job submitted with the issuer's bearer token and no certificate is created", async () => {
  const good = join(dir, "good");
  const jwt = await issuer.issue({
    sub: "factory",
    audiences: [arc.endpoint],
    scope: "compute.create compute.read",
    lifetimeS: 600,
  });
  writeFileSync(good, `${jwt}\n`, { mode: 0o600 });
  const c = client(good);
  after(() => c.close());
  const r = await c.call("POST", "/jobs?action=new", {
    body: '&(executable="/bin/true")(jobname="token")',
    contentType: "application/xrsl",
  });
  const text = r.body.toString("utf8");
  assert.equal(r.status, 201, text);
  const job = (JSON.parse(text) as { job: { "status-code": string; id: string } }).job;
  assert.equal(job["status-code"], "201", text);
  assert.match(job.id, /^[A-Za-z0-9]+$/);
});

test("a token signed by a key its issuer does not publish is refused", async () => {
  const { privateKey: stranger } = await generateKeyPair("RS256");
  const c = client(await token(stranger, "forged"));
  after(() => c.close());
  const r = await c.call("POST", "/jobs?action=new", {
    body: '&(executable="/bin/true")(jobname="forged")',
    contentType: "application/xrsl",
  });
  assert.equal(r.status, 403, r.body.toString("utf8"));
});

test("a token file that is not one JWT is refused before anything is sent, without its text", async () => {
  const file = join(dir, "bad");
  writeFileSync(file, "abc.def.ghi\r\nX-Injected: 1\n", { mode: 0o600 });
  const c = client(file);
  after(() => c.close());
  await assert.rejects(
    c.call("POST", "/jobs?action=new", { body: "x" }),
    (err: Error) =>
      /client_token .*: not a JWT/.test(err.message) && !err.message.includes("X-Injected"),
  );
});
