/**
 * A real collector that trusts an issuer by its URL alone: the keys come from the issuer's
 * `/.well-known/openid-configuration` -> `jwks_uri` over HTTPS verified with the configured CA,
 * as from an IAM. A token of that issuer is accepted; a flood of tokens naming unknown kids makes
 * at most one refresh of the issuer's keys; an issuer whose HTTPS certificate the collector does
 * not trust gives no keys, and its tokens are refused as `unknown-key`.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { generateKeyPair, SignJWT } from "jose";
import { createCollectorClient } from "../../src/collector/client.js";
import { createRpcClient, type RpcClient } from "../../src/wire/client.js";
import { startHttpsIssuer, type HttpsIssuer } from "../helpers/https-issuer.js";
import { createTestPki, type TestPki } from "../helpers/pki.js";
import { createPool, slotAd, startCollector, tempDir, type Pool, type Running } from "./harness.js";

const AUD = "wss://collector.pool.example.org:9618/";
let pool: Pool;
let c: Running;
let dir: ReturnType<typeof tempDir>;
let iam: HttpsIssuer;
// An issuer whose HTTPS certificate comes from a CA the collector was not told to trust.
let otherPki: TestPki;
let untrusted: HttpsIssuer;
const rpcs: RpcClient[] = [];

before(async () => {
  pool = createPool();
  dir = tempDir();
  iam = await startHttpsIssuer(pool.pki, dir.dir);
  otherPki = createTestPki();
  untrusted = await startHttpsIssuer(otherPki, otherPki.dir);
  const base = pool.config();
  c = await startCollector(
    pool,
    pool.config({
      tokens: {
        issuers: [
          { issuer: iam.url, ca_file: pool.pki.caCertFile },
          { issuer: untrusted.url, ca_file: pool.pki.caCertFile },
        ],
        audiences: [AUD],
      },
      authorization: {
        rules: [
          ...base.authorization.rules,
          { issuer: iam.url, group: "/vo/pilots", roles: ["pilot", "read"] },
          { issuer: untrusted.url, roles: ["pilot", "read"] },
        ],
      },
    }),
  );
});
after(async () => {
  for (const r of rpcs) await r.close();
  await c?.stop();
  iam?.close();
  untrusted?.close();
  otherPki?.cleanup();
  dir?.cleanup();
  pool?.cleanup();
});

function withToken(token: string) {
  const rpc = createRpcClient({
    url: c.url,
    caDir: pool.pki.caDir,
    bearerToken: token,
    backoff: { initialMs: 20, maxMs: 200, minMs: 5 },
  });
  rpcs.push(rpc);
  return createCollectorClient(rpc);
}

async function refusedFor(cause: string): Promise<number> {
  const m = await c.daemon.metrics.getSingleMetric("updraft_refused_connections_total")!.get();
  return m.values.find((v) => v.labels.cause === cause)?.value ?? 0;
}

const fetches = (i: HttpsIssuer) => i.requests.get("/jwks.json") ?? 0;

test("a token of an issuer found by OIDC discovery over verified HTTPS is accepted", async () => {
  const t = await iam.issue({
    sub: "pilot-7",
    audiences: [AUD],
    groups: ["/vo/pilots"],
    lifetimeS: 600,
  });
  const [out] = await withToken(t).advertise([slotAd(1)]);
  assert.equal(out!.ok, true, JSON.stringify(out));
  const [ad] = await c.as("reader").query({ type: "Slot", projection: ["AuthenticatedIdentity"] });
  assert.equal(ad!.AuthenticatedIdentity, JSON.stringify(`${iam.url}#pilot-7`));
  assert.equal(iam.requests.get("/.well-known/openid-configuration"), 1);
  assert.equal(fetches(iam), 1);
});

test("a flood of unknown kids costs the issuer at most one refresh of its keys", async () => {
  const before = fetches(iam);
  const refusedBefore = await refusedFor("token-unknown-key");
  const { privateKey } = await generateKeyPair("RS256");
  const now = Math.floor(Date.now() / 1000);
  for (let i = 0; i < 20; i++) {
    const forged = await new SignJWT({
      sub: "pilot-7",
      "wlcg.ver": "1.0",
      "wlcg.groups": ["/vo/pilots"],
    })
      .setProtectedHeader({ alg: "RS256", typ: "JWT", kid: `made-up-${i}` })
      .setIssuer(iam.url)
      .setAudience(AUD)
      .setIssuedAt(now)
      .setExpirationTime(now + 600)
      .sign(privateKey);
    await assert.rejects(
      withToken(forged).advertise([slotAd(2)]),
      /bearer token was not accepted \(check: unknown-key\)/,
    );
  }
  // Each forged token is refused at least once (its client tries again until its deadline).
  assert.ok((await refusedFor("token-unknown-key")) - refusedBefore >= 20);
  assert.ok(fetches(iam) - before <= 1, `${fetches(iam) - before} refreshes`);
});

test("an issuer whose HTTPS certificate is not trusted gives no keys: its tokens are refused", async () => {
  const refusedBefore = await refusedFor("token-unknown-key");
  for (let i = 0; i < 10; i++) {
    const t = await untrusted.issue({ sub: `pilot-${i}`, audiences: [AUD], lifetimeS: 600 });
    await assert.rejects(
      withToken(t).advertise([slotAd(3)]),
      /bearer token was not accepted \(check: unknown-key\)/,
    );
  }
  assert.ok((await refusedFor("token-unknown-key")) - refusedBefore >= 10);
  assert.equal(fetches(untrusted), 0, "no key document crossed an unverified connection");
  // Ten different tokens, each tried several times, cost the issuer one attempt a minute.
  assert.equal(untrusted.connections(), 1);
});
