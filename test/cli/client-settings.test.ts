import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { resolveClientSettings } from "../../src/cli/client-settings.js";

const none = () => false;

test("flags win over the environment", async () => {
  const s = await resolveClientSettings(
    { pool: "wss://a:1", proxy: "/p" },
    { UPDRAFT_POOL: "wss://b:2", X509_USER_PROXY: "/q", HOME: "/h" },
    none,
  );
  assert.equal(s.pool, "wss://a:1");
  assert.deepEqual(s.credential, { proxyFile: "/p" });
});

test("the environment gives pool, proxy and trust directory", async () => {
  const s = await resolveClientSettings(
    {},
    { UPDRAFT_POOL: "wss://b:2", X509_USER_PROXY: "/q", X509_CERT_DIR: "/ca", HOME: "/h" },
    none,
  );
  assert.deepEqual(s, { pool: "wss://b:2", credential: { proxyFile: "/q" }, caDir: "/ca" });
});

test("without a proxy the user certificate pair in ~/.globus is used", async () => {
  const s = await resolveClientSettings({ pool: "wss://a:1" }, { HOME: "/h" }, none);
  assert.deepEqual(s.credential, {
    certFile: "/h/.globus/usercert.pem",
    keyFile: "/h/.globus/userkey.pem",
  });
  assert.equal(s.caDir, "/etc/grid-security/certificates");
});

test("the user config file fills what flags and environment leave open", async () => {
  const dir = mkdtempSync(join(tmpdir(), "updraft-client-"));
  try {
    const file = join(dir, "client.yaml");
    writeFileSync(file, "pool: wss://c:3\nca_dir: /trust\n");
    const s = await resolveClientSettings({}, { UPDRAFT_CONFIG: file, X509_USER_PROXY: "/q" });
    assert.equal(s.pool, "wss://c:3");
    assert.equal(s.caDir, "/trust");
    writeFileSync(file, "pool: wss://c:3\nbogus: 1\n");
    await assert.rejects(
      resolveClientSettings({}, { UPDRAFT_CONFIG: file }),
      /bogus.*unknown key/s,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("no pool anywhere says what to set", async () => {
  await assert.rejects(resolveClientSettings({}, { HOME: "/h" }, none), /UPDRAFT_POOL/);
});

test("credential order: flags, BEARER_TOKEN, BEARER_TOKEN_FILE, X.509 variables, user config, discovery files, grid defaults", async () => {
  const uid = process.getuid?.() ?? 0;
  const bt = `/run/user/${uid}/bt_u${uid}`;
  const exists = (files: string[]) => (f: string) => files.includes(f);
  const env = {
    UPDRAFT_POOL: "wss://a:1",
    HOME: "/h",
    XDG_RUNTIME_DIR: `/run/user/${uid}`,
    UPDRAFT_CONFIG: "/nonexistent/client.yaml",
  };
  const cred = async (flags: object, extra: object, files: string[] = []) =>
    (await resolveClientSettings(flags, { ...env, ...extra }, exists(files))).credential;
  assert.deepEqual(await cred({ token: "/t", proxy: "/p" }, { BEARER_TOKEN: "x" }), {
    tokenFile: "/t",
    source: "--token",
  });
  assert.deepEqual(await cred({ proxy: "/p" }, { BEARER_TOKEN: "x" }), { proxyFile: "/p" });
  assert.deepEqual(await cred({}, { BEARER_TOKEN: " tok\n", BEARER_TOKEN_FILE: "/f" }), {
    tokenText: "tok",
    source: "BEARER_TOKEN",
  });
  assert.deepEqual(await cred({}, { BEARER_TOKEN_FILE: "/f", X509_USER_PROXY: "/q" }), {
    tokenFile: "/f",
    source: "BEARER_TOKEN_FILE",
  });
  assert.deepEqual(await cred({}, { X509_USER_PROXY: "/q" }, [bt]), { proxyFile: "/q" });
  assert.deepEqual(await cred({}, {}, [bt, `/tmp/x509up_u${uid}`]), {
    tokenFile: bt,
    source: "token discovery",
  });
  assert.deepEqual(await cred({}, {}, [`/tmp/bt_u${uid}`, `/tmp/x509up_u${uid}`]), {
    tokenFile: `/tmp/bt_u${uid}`,
    source: "token discovery",
  });
  assert.deepEqual(await cred({}, {}, [`/tmp/x509up_u${uid}`]), {
    proxyFile: `/tmp/x509up_u${uid}`,
  });
});

test("the user config may name a token file, used after the environment's credentials", async () => {
  const dir = mkdtempSync(join(tmpdir(), "updraft-client-"));
  try {
    const file = join(dir, "client.yaml");
    writeFileSync(file, "pool: wss://c:3\ntoken_file: /home/u/.token\nproxy: /p\n");
    const env = { UPDRAFT_CONFIG: file, HOME: "/h" };
    assert.deepEqual((await resolveClientSettings({}, env, (f) => f === file)).credential, {
      tokenFile: "/home/u/.token",
      source: file,
    });
    assert.deepEqual(
      (await resolveClientSettings({}, { ...env, X509_USER_PROXY: "/q" }, (f) => f === file))
        .credential,
      { proxyFile: "/q" },
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the user file's pool may list several collectors", async () => {
  const dir = mkdtempSync(join(tmpdir(), "updraft-client-"));
  try {
    const file = join(dir, "client.yaml");
    writeFileSync(file, "pool: [wss://c:3, wss://d:4]\nproxy: /p\n");
    const s = await resolveClientSettings({}, { UPDRAFT_CONFIG: file, HOME: "/h" });
    assert.equal(s.pool, "wss://c:3,wss://d:4");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
