/**
 * A running server takes up a new CRL from its trust directory: a certificate revoked after
 * the server started is refused on its next connection, with no restart.
 */
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { connect, createTestPki, startServer } from "./harness.js";

test("a certificate revoked while the server runs is refused on the next connection", async () => {
  const pki = createTestPki();
  const ts = await startServer(pki, { trustRecheckMs: 0 });
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
  assert.match(err?.message ?? "", /revoked/i);
});
