/** The verdict cache: cheap repeats, validity windows honoured, a reloaded trust store starts afresh. */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { createVerifyCache } from "../../src/security/verify-cache.js";
import { verifyChain } from "../../src/security/verify.js";
import { createTestPki, type TestPki } from "../helpers/pki.js";

let pki: TestPki;
before(() => {
  pki = createTestPki();
});
after(() => pki.cleanup());

test("verifying the same chain again is served from the cache and is fast", () => {
  const trust = pki.trust();
  const chain = pki.chainDer(pki.proxy.pem);
  assert.ok(verifyChain(chain, trust).ok);
  assert.equal(trust.cache.size, 1);
  const start = process.hrtime.bigint();
  for (let i = 0; i < 2000; i++) assert.ok(verifyChain(chain, trust).ok);
  const perCallMs = Number(process.hrtime.bigint() - start) / 1e6 / 2000;
  assert.ok(perCallMs < 0.5, `a cached verification took ${perCallMs} ms`);
  assert.equal(trust.cache.size, 1);
});

test("a cached acceptance does not outlive the chain's validity", () => {
  const trust = pki.trust();
  const chain = pki.chainDer(pki.proxy.pem);
  assert.ok(verifyChain(chain, trust).ok);
  const later = new Date(Date.now() + 13 * 3_600_000);
  const r = verifyChain(chain, trust, { now: later });
  assert.equal(r.ok || r.code, "expired");
  const earlier = new Date(Date.now() - 3_600_000);
  const r2 = verifyChain(chain, trust, { now: earlier });
  assert.equal(r2.ok || r2.code, "not-yet-valid");
});

test("a cached limited proxy is still refused when limited proxies are not allowed", () => {
  const trust = pki.trust();
  const chain = pki.chainDer(pki.proxyOf(pki.user, { limited: true }).pem);
  assert.ok(verifyChain(chain, trust, { allowLimited: true }).ok);
  const r = verifyChain(chain, trust);
  assert.equal(r.ok || r.code, "limited-proxy");
});

test("reloading the trust directory after a revocation refuses a chain accepted before", () => {
  const bob = pki.issueUser("/DC=org/DC=example/CN=Bob Cached");
  const chain = pki.chainDer(pki.proxyOf(bob).pem);
  const before = pki.trust();
  assert.ok(verifyChain(chain, before).ok);
  pki.revoke(bob.certPem);
  const reloaded = pki.trust();
  const r = verifyChain(chain, reloaded);
  assert.equal(r.ok || r.code, "revoked");
});

test("the cache is bounded and drops the least recently used entry", () => {
  const cache = createVerifyCache(2);
  const now = new Date();
  const entry = (v: string) => ({ verdict: v, validFrom: 0, validUntil: Infinity });
  cache.set("a", entry("A"));
  cache.set("b", entry("B"));
  assert.equal(cache.get("a", now), "A");
  cache.set("c", entry("C"));
  assert.equal(cache.size, 2);
  assert.equal(cache.get("b", now), undefined);
  assert.equal(cache.get("a", now), "A");
});
