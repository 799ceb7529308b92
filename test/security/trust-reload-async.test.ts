/**
 * A server reloads its trust directory without blocking its event loop: the reads are
 * asynchronous, so other work runs while a reload is in flight, and the result is the same store
 * a blocking load gives.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { loadTrustDir, refreshTrustStoreAsync } from "../../src/security/trust.js";
import { createTestPki, type TestPki } from "../helpers/pki.js";

let pki: TestPki;
before(() => {
  pki = createTestPki();
});
after(() => pki.cleanup());

test("a reload lets the event loop turn while it reads, and sees a new revocation", async () => {
  const first = loadTrustDir(pki.caDir);
  const same = await refreshTrustStoreAsync(first);
  assert.equal(same.store, first, "an unchanged directory gives the same store");

  const bob = pki.issueUser("/DC=org/DC=example/CN=Bob Revoked Later");
  pki.revoke(bob.certPem);
  let turns = 0;
  let reloading = true;
  const spin = () => {
    if (!reloading) return;
    turns++;
    setImmediate(spin);
  };
  setImmediate(spin);
  const r = await refreshTrustStoreAsync(first);
  reloading = false;
  assert.equal(r.error, undefined);
  assert.notEqual(r.store, first, "a changed directory gives a new store");
  assert.ok(turns > 0, "other work ran during the reload");
  const blocking = loadTrustDir(pki.caDir);
  assert.equal(r.store.fingerprint, blocking.fingerprint);
  const revokedIn = (s: typeof first) =>
    [...s.crls.values()].flat().reduce((n, t) => n + t.crl.revoked.size, 0);
  assert.equal(revokedIn(r.store), revokedIn(blocking));
  assert.equal(revokedIn(r.store), revokedIn(first) + 1);
});

test("an unreadable directory keeps the loaded store and says why", async () => {
  const first = loadTrustDir(pki.caDir);
  const gone = { ...first, dir: `${pki.dir}/absent`, fingerprint: "x" };
  const r = await refreshTrustStoreAsync(gone);
  assert.equal(r.store, gone);
  assert.match(String(r.error), /absent/);
});
