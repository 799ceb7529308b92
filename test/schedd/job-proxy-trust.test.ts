/**
 * The schedd checks a job's proxy with the same trust modes as its listener: a certificate
 * outside its CA's namespace is refused by default, and accepted where `tls.ca_namespaces: off`.
 */
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { trustDirCheck } from "../../src/schedd/job-proxy.js";
import { createTestPki } from "../helpers/pki.js";

const pki = createTestPki();
after(() => pki.cleanup());

test("a job proxy outside the CA's namespace follows the schedd's ca_namespaces mode", () => {
  // The test CA signs under /DC=org/DC=example/*; this user is elsewhere.
  const outsider = pki.issueUser("/DC=org/DC=elsewhere/CN=Zed");
  const chain = pki.chainDer(pki.proxyOf(outsider).pem);
  const enforced = trustDirCheck(pki.caDir, { caNamespaces: "enforce", crlExpired: "refuse" })(
    chain,
  );
  assert.equal(enforced.ok, false);
  assert.equal(enforced.ok ? "" : enforced.code, "namespace");
  const off = trustDirCheck(pki.caDir, { caNamespaces: "off", crlExpired: "refuse" })(chain);
  assert.ok(off.ok, off.ok ? "" : off.reason);
  const insider = pki.chainDer(pki.proxy.pem);
  assert.ok(
    trustDirCheck(pki.caDir, { caNamespaces: "enforce", crlExpired: "refuse" })(insider).ok,
  );
});

test("a revocation reaches job proxy checks through a reload that does not hold up the upload", async () => {
  const user = pki.issueUser("/DC=org/DC=example/CN=Revoked Later");
  const chain = pki.chainDer(pki.proxyOf(user).pem);
  let now = Date.now();
  const check = trustDirCheck(
    pki.caDir,
    { caNamespaces: "enforce", crlExpired: "refuse" },
    () => now,
  );
  assert.ok(check(chain).ok);
  pki.revoke(user.certPem);
  now += 61_000;
  // The upload that finds the recheck due is not made to wait for the directory's reading.
  assert.ok(check(chain).ok, "checked against the trust loaded before");
  const reload = check.reloading();
  assert.ok(reload, "the reload runs in the background");
  await reload;
  const after = check(chain);
  assert.equal(after.ok, false);
  assert.equal(after.ok ? "" : after.code, "revoked");
  assert.equal(check.reloading(), undefined);
});
