/**
 * A CA in the trust directory cannot mint identities outside its namespace: a second CA that
 * issues a certificate with Alice's DN is refused at the server, as is a CA with no signing
 * policy; `caNamespaces: "off"` is the documented way back to trusting any CA for any name.
 */
import assert from "node:assert/strict";
import { copyFileSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { parseCertificate, pemCertificates } from "../../src/security/cert-info.js";
import { subjectHash } from "../../src/security/dn.js";
import { createCA, issueUserCert, type KeyAndCert } from "../../src/security/pki.js";
import { signingPolicy } from "../../src/security/ca-dir.js";
import { ALICE } from "../helpers/pki.js";
import { captureLog, connect, createTestPki, startServer, type TestPki } from "./harness.js";

let pki: TestPki;
let rogue: KeyAndCert;
let rogueHash: string;
let mintedAlice: KeyAndCert;

before(() => {
  pki = createTestPki();
  // A CA for another part of the world, trusted for its own names (/DC=org/DC=rogue/*).
  rogue = createCA({ subject: "/DC=org/DC=rogue/CN=Rogue CA", days: 30 });
  const info = parseCertificate(pemCertificates(rogue.certPem)[0]);
  rogueHash = subjectHash(info.subjectDer);
  writeFileSync(join(pki.caDir, `${rogueHash}.0`), rogue.certPem);
  writeFileSync(join(pki.caDir, `${rogueHash}.signing_policy`), signingPolicy(info));
  mintedAlice = issueUserCert(rogue, { subject: ALICE, days: 7 });
});
after(() => pki.cleanup());

async function whoAmI(
  ts: Awaited<ReturnType<typeof startServer>>,
  cred: KeyAndCert,
): Promise<{ identity?: string; err?: Error & { code?: string } }> {
  const client = connect(ts, pki, {
    credentialFile: undefined,
    certPem: cred.certPem,
    keyPem: cred.keyPem,
  });
  try {
    const out = await client.call("test.WhoAmI", Buffer.alloc(0), { deadlineMs: 10_000 });
    return { identity: (JSON.parse(out.toString()) as { identity: string }).identity };
  } catch (err) {
    return { err: err as Error & { code?: string } };
  } finally {
    await client.close();
  }
}

test("a trusted CA minting a DN outside its signing policy is refused at the server", async () => {
  const log = captureLog();
  const ts = await startServer(pki, { logger: log.logger });
  after(() => ts.server.close());
  const r = await whoAmI(ts, mintedAlice);
  assert.equal(r.err?.code, "unauthenticated", String(r.err ?? r.identity));
  // The peer learns it was refused; the server's log says why.
  assert.match(r.err?.message ?? "", /not accepted/);
  assert.match(log.text(), /outside the namespace of \/DC=org\/DC=rogue\/CN=Rogue CA/);
  // The rogue CA's own names still pass, and so does the real Alice.
  const own = await whoAmI(ts, issueUserCert(rogue, { subject: "/DC=org/DC=rogue/CN=Rita" }));
  assert.equal(own.identity, "/DC=org/DC=rogue/CN=Rita", String(own.err));
  assert.equal((await whoAmI(ts, pki.user)).identity, ALICE);
});

test("a CA without a signing policy or namespaces file signs nothing", async () => {
  copyFileSync(join(pki.caDir, `${rogueHash}.signing_policy`), join(pki.dir, "kept"));
  unlinkSync(join(pki.caDir, `${rogueHash}.signing_policy`));
  after(() => copyFileSync(join(pki.dir, "kept"), join(pki.caDir, `${rogueHash}.signing_policy`)));
  const log = captureLog();
  const ts = await startServer(pki, { logger: log.logger });
  after(() => ts.server.close());
  const r = await whoAmI(ts, issueUserCert(rogue, { subject: "/DC=org/DC=rogue/CN=Rita" }));
  assert.equal(r.err?.code, "unauthenticated", String(r.err ?? r.identity));
  assert.match(log.text(), /no namespace is defined for the CA \/DC=org\/DC=rogue/);
});

test("with caNamespaces off, any trusted CA may issue any name (the documented opt-out)", async () => {
  const ts = await startServer(pki, { caNamespaces: "off" });
  after(() => ts.server.close());
  assert.equal((await whoAmI(ts, mintedAlice)).identity, ALICE);
});
