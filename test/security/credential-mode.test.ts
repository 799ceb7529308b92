/**
 * User commands refuse a proxy or private key that other users can read, as Globus does, and
 * say how to fix it; the same file made private works past that check.
 */
import assert from "node:assert/strict";
import { chmodSync, copyFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { createTestPki, type TestPki } from "../helpers/pki.js";
import { updraft } from "./cli.js";

let pki: TestPki;
before(() => {
  pki = createTestPki();
});
after(() => pki.cleanup());

// Port 9 on loopback has no schedd: a private credential gets as far as connecting.
const q = (env: Record<string, string>) =>
  updraft(["q", "--schedd", "wss://127.0.0.1:9/"], { X509_CERT_DIR: pki.caDir, ...env });

test("a proxy readable by others is refused with the chmod to run", () => {
  const proxy = join(pki.dir, "open-proxy");
  copyFileSync(pki.proxy.file, proxy);
  chmodSync(proxy, 0o644);
  const open = q({ X509_USER_PROXY: proxy });
  assert.notEqual(open.status, 0);
  assert.match(open.stderr, /proxy .*open-proxy is open to other users \(mode 0644\)/);
  assert.match(open.stderr, /chmod 600 /);
  chmodSync(proxy, 0o600);
  const closed = q({ X509_USER_PROXY: proxy });
  assert.doesNotMatch(closed.stderr, /open to other users/);
  assert.match(closed.stderr, /cannot reach the schedd/);
});

test("a private key readable by its group is refused", () => {
  const key = join(pki.dir, "group-key.pem");
  copyFileSync(pki.user.keyFile, key);
  chmodSync(key, 0o640);
  const r = q({ X509_USER_CERT: pki.user.certFile, X509_USER_KEY: key, X509_USER_PROXY: "" });
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /private key .*group-key\.pem is open to other users \(mode 0640\)/);
});
