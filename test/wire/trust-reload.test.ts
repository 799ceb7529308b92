/**
 * A running server takes up a new CRL from its trust directory: a certificate revoked after
 * the server started is refused on its next connection, with no restart.
 */
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { connect, createTestPki, eventually, startServer } from "./harness.js";

test("a certificate revoked while the server runs is refused on the next connection", async () => {
  const pki = createTestPki();
  const causes: string[] = [];
  const ts = await startServer(pki, {
    trustRecheckMs: 0,
    observer: { callDone: () => undefined, refused: (c) => causes.push(c) },
  });
  after(async () => {
    await ts.server.close();
    pki.cleanup();
  });
  const creds = { credentialFile: undefined, certPem: pki.user.certPem, keyPem: pki.user.keyPem };
  const first = connect(ts, pki, creds);
  assert.equal((await first.call("test.Echo", Buffer.from("a"))).toString(), "a");
  await first.close();

  pki.revoke(pki.user.certPem);
  const second = connect(ts, pki, creds);
  const err = await second.call("test.Echo", Buffer.from("b"), { deadlineMs: 10_000 }).then(
    () => undefined,
    (e: Error & { code?: string }) => e,
  );
  await second.close();
  assert.equal(err?.code, "unauthenticated", String(err));
  // The peer is told only that it was refused; the server knows why.
  assert.deepEqual(causes, ["revoked"]);
});

test("revocation reaches open connections: a revoked peer's connection closes on reload", async () => {
  const pki = createTestPki();
  const ts = await startServer(pki, { trustRecheckMs: 50, limits: { pingIntervalMs: 100 } });
  after(async () => {
    await ts.server.close();
    pki.cleanup();
  });
  const bob = pki.issueUser("/DC=org/DC=example/CN=Bob Stays");
  const revoked = connect(ts, pki, {
    credentialFile: undefined,
    certPem: pki.user.certPem,
    keyPem: pki.user.keyPem,
  });
  const stays = connect(ts, pki, {
    credentialFile: undefined,
    certPem: bob.certPem,
    keyPem: bob.keyPem,
  });
  after(async () => {
    await revoked.close();
    await stays.close();
  });
  await revoked.call("test.Echo", Buffer.from("a"));
  await stays.call("test.Echo", Buffer.from("b"));
  assert.equal(ts.server.connectionCount, 2);

  pki.revoke(pki.user.certPem);
  // No new connection arrives: the server's own timer rechecks the directory.
  await eventually(
    () => ts.server.connectionCount === 1,
    10_000,
    "the revoked connection to close",
  );
  assert.equal((await stays.call("test.Echo", Buffer.from("c"))).toString(), "c");
});
