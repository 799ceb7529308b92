import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { resolveClientSettings } from "../../src/cli/client-settings.js";

const none = () => false;

test("flags win over the environment", () => {
  const s = resolveClientSettings(
    { pool: "wss://a:1", proxy: "/p" },
    { UPDRAFT_POOL: "wss://b:2", X509_USER_PROXY: "/q", HOME: "/h" },
    none,
  );
  assert.equal(s.pool, "wss://a:1");
  assert.deepEqual(s.credential, { proxyFile: "/p" });
});

test("the environment gives pool, proxy and trust directory", () => {
  const s = resolveClientSettings(
    {},
    { UPDRAFT_POOL: "wss://b:2", X509_USER_PROXY: "/q", X509_CERT_DIR: "/ca", HOME: "/h" },
    none,
  );
  assert.deepEqual(s, { pool: "wss://b:2", credential: { proxyFile: "/q" }, caDir: "/ca" });
});

test("without a proxy the user certificate pair in ~/.globus is used", () => {
  const s = resolveClientSettings({ pool: "wss://a:1" }, { HOME: "/h" }, none);
  assert.deepEqual(s.credential, {
    certFile: "/h/.globus/usercert.pem",
    keyFile: "/h/.globus/userkey.pem",
  });
  assert.equal(s.caDir, "/etc/grid-security/certificates");
});

test("the user config file fills what flags and environment leave open", () => {
  const dir = mkdtempSync(join(tmpdir(), "updraft-client-"));
  try {
    const file = join(dir, "client.yaml");
    writeFileSync(file, "pool: wss://c:3\nca_dir: /trust\n");
    const s = resolveClientSettings({}, { UPDRAFT_CONFIG: file, X509_USER_PROXY: "/q" });
    assert.equal(s.pool, "wss://c:3");
    assert.equal(s.caDir, "/trust");
    writeFileSync(file, "pool: wss://c:3\nbogus: 1\n");
    assert.throws(() => resolveClientSettings({}, { UPDRAFT_CONFIG: file }), /bogus.*unknown key/s);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("no pool anywhere says what to set", () => {
  assert.throws(() => resolveClientSettings({}, { HOME: "/h" }, none), /UPDRAFT_POOL/);
});
