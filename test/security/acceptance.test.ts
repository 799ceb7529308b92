/** What verifyChain accepts: end-entity certificates and RFC 3820 chains, proxies of proxies. */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { createTrustStore } from "../../src/security/trust.js";
import { verifyChain } from "../../src/security/verify.js";
import { ALICE, createTestPki, type TestPki } from "../helpers/pki.js";
import { FAST_BITS, asIssuer, caExtensions, make, userExtensions } from "./fixtures/bad-certs.js";

let pki: TestPki;
before(() => {
  pki = createTestPki({ bits: FAST_BITS });
});
after(() => pki.cleanup());

test("a user certificate gives its subject as the identity", () => {
  const r = verifyChain(pki.chainDer(pki.user.certPem), pki.trust());
  assert.deepEqual(r.ok && { identity: r.identity, depth: r.proxyDepth, limited: r.limited }, {
    identity: ALICE,
    depth: 0,
    limited: false,
  });
});

test("a host certificate is accepted as a client (daemons authenticate with it)", () => {
  const r = verifyChain(pki.chainDer(pki.host.certPem), pki.trust());
  assert.ok(r.ok);
  assert.equal(r.identity, "/DC=org/DC=example/CN=localhost");
});

test("an RFC 3820 proxy gives the end entity's identity and its own expiry", () => {
  const r = verifyChain(pki.chainDer(pki.proxy.pem), pki.trust());
  assert.ok(r.ok, JSON.stringify(r));
  assert.equal(r.identity, ALICE);
  assert.equal(r.proxyDepth, 1);
  assert.ok(r.notAfter.getTime() <= Date.now() + 12 * 3_600_000 + 1000);
});

test("proxies of proxies are accepted, three deep", () => {
  const p3 = pki.proxyOf(pki.proxyOf(pki.proxy));
  const r = verifyChain(pki.chainDer(p3.pem), pki.trust());
  assert.ok(r.ok, JSON.stringify(r));
  assert.equal(r.identity, ALICE);
  assert.equal(r.proxyDepth, 3);
});

test("a limited proxy is accepted where allowed, and marked limited", () => {
  const limited = pki.proxyOf(pki.user, { limited: true });
  const r = verifyChain(pki.chainDer(limited.pem), pki.trust(), { allowLimited: true });
  assert.ok(r.ok && r.limited);
});

test("a proxy of a limited proxy is itself limited", () => {
  const p = pki.proxyOf(pki.proxyOf(pki.user, { limited: true }));
  const r = verifyChain(pki.chainDer(p.pem), pki.trust());
  assert.equal(r.ok || r.code, "limited-proxy");
});

test("a chain that also presents the trusted root is accepted", () => {
  const chain = [...pki.chainDer(pki.proxy.pem), ...pki.chainDer(pki.ca.certPem)];
  assert.ok(verifyChain(chain, pki.trust()).ok);
});

test("a chain through a presented intermediate CA is accepted", () => {
  const root = make({
    issuer: "self",
    subject: "/DC=org/DC=two/CN=Root",
    extensions: caExtensions(1),
  });
  const sub = make({
    issuer: asIssuer(root),
    subject: "/DC=org/DC=two/CN=Sub",
    extensions: caExtensions(),
  });
  const leaf = make({
    issuer: asIssuer(sub),
    subject: "/DC=org/DC=two/CN=Dave",
    extensions: userExtensions(),
  });
  // As IGTF bundles do, the root's signing policy also names the namespace of its sub-CA.
  const policy = [
    "access_id_CA X509 '/DC=org/DC=two/CN=Root'",
    "pos_rights globus CA:sign",
    `cond_subjects globus '"/DC=org/DC=two/CN=Sub"'`,
    "access_id_CA X509 '/DC=org/DC=two/CN=Sub'",
    "pos_rights globus CA:sign",
    `cond_subjects globus '"/DC=org/DC=two/*"'`,
  ].join("\n");
  const trust = createTrustStore({
    cas: [{ data: root.der, source: "root" }],
    policies: [{ kind: "signing_policy", hash: "0", data: policy, source: "policy" }],
  });
  const r = verifyChain([leaf.der, sub.der], trust);
  assert.ok(r.ok, JSON.stringify(r));
  assert.equal(r.identity, "/DC=org/DC=two/CN=Dave");
});

test("presented certificates out of order still build a path", () => {
  const p2 = pki.proxyOf(pki.proxy);
  const [leaf, ...rest] = pki.chainDer(p2.pem);
  assert.ok(verifyChain([leaf, ...rest.reverse()], pki.trust()).ok);
});

test("a self-signed root without basicConstraints (old v1-style CA) is trusted, as OpenSSL does", () => {
  const root = make({ issuer: "self", subject: "/DC=org/DC=old/CN=Old Root", extensions: [] });
  const leaf = make({
    issuer: asIssuer(root),
    subject: "/DC=org/DC=old/CN=Grace",
    extensions: userExtensions(),
  });
  const trust = createTrustStore({
    cas: [{ data: root.der, source: "old-root" }],
    caNamespaces: "off",
  });
  assert.deepEqual(trust.problems, []);
  const r = verifyChain([leaf.der], trust);
  assert.ok(r.ok, JSON.stringify(r));
  assert.equal(verifyChain([root.der], trust).ok || "refused", "refused");
});
