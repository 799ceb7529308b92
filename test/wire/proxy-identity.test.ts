import assert from "node:assert/strict";
import { test } from "node:test";
import { connect, serverPerFile } from "./harness.js";

const world = serverPerFile();

async function whoAmI(opts: Parameters<typeof connect>[2]) {
  const client = connect(world.ts, world.pki, opts);
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
    certPem: world.pki.user.certPem,
    keyPem: world.pki.user.keyPem,
  });
  assert.equal(me.identity, world.pki.user.subject);
  assert.deepEqual(me.roles, ["user"]);
});

test("an RFC 3820 proxy is accepted as its owner", async () => {
  const me = await whoAmI({ credentialFile: world.pki.proxy.file });
  assert.equal(me.identity, world.pki.user.subject);
});

test("a proxy of a proxy (two levels) is accepted as its owner", async () => {
  const second = world.pki.proxyOf(world.pki.proxy);
  const me = await whoAmI({ credentialFile: second.file });
  assert.equal(me.identity, world.pki.user.subject);
});

test("another user's proxy gets that user's identity and default roles", async () => {
  const bob = world.pki.issueUser("/DC=org/DC=example/CN=Bob");
  const proxy = world.pki.proxyOf(world.pki.proxyOf(bob));
  const me = await whoAmI({ credentialFile: proxy.file });
  assert.equal(me.identity, "/DC=org/DC=example/CN=Bob");
  assert.deepEqual(me.roles, ["read"]);
});
