import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { connect, createTestPki, startServer, type TestPki, type TestServer } from "./harness.js";

let pki: TestPki;
let ts: TestServer;

before(async () => {
  pki = createTestPki();
  ts = await startServer(pki);
});
after(async () => {
  await ts.server.close();
  pki.cleanup();
});

async function whoAmI(opts: Parameters<typeof connect>[2]) {
  const client = connect(ts, pki, opts);
  try {
    const reply = await client.call("test.WhoAmI", new Uint8Array(0));
    return JSON.parse(Buffer.from(reply).toString()) as { identity: string; roles: string[] };
  } finally {
    await client.close();
  }
}

test("a plain user certificate is accepted as its subject", async () => {
  const me = await whoAmI({
    credentialFile: undefined,
    certPem: pki.user.certPem,
    keyPem: pki.user.keyPem,
  });
  assert.equal(me.identity, pki.user.subject);
  assert.deepEqual(me.roles, ["user"]);
});

test("an RFC 3820 proxy is accepted as its owner", async () => {
  const me = await whoAmI({ credentialFile: pki.proxy.file });
  assert.equal(me.identity, pki.user.subject);
});

test("a proxy of a proxy (two levels) is accepted as its owner", async () => {
  const second = pki.proxyOf(pki.proxy);
  const me = await whoAmI({ credentialFile: second.file });
  assert.equal(me.identity, pki.user.subject);
});

test("another user's proxy gets that user's identity and default roles", async () => {
  const bob = pki.issueUser("/DC=org/DC=example/CN=Bob");
  const proxy = pki.proxyOf(pki.proxyOf(bob));
  const me = await whoAmI({ credentialFile: proxy.file });
  assert.equal(me.identity, "/DC=org/DC=example/CN=Bob");
  assert.deepEqual(me.roles, ["read"]);
});
