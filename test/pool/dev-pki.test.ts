/** The development PKI renews what would expire: a pool restarted a month later still starts. */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { ensureDevPki } from "../../src/pool/dev-pki.js";
import { CRL_DAYS } from "../../src/security/ca-dir.js";
import { parseCrl, pemCrls } from "../../src/security/crl.js";
import { loadTrustDir } from "../../src/security/trust.js";

const dir = mkdtempSync(join(tmpdir(), "updraft-dev-pki-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const crlOf = () => parseCrl(pemCrls(readFileSync(join(dir, "crl.pem"), "utf8"))[0]);
const DAY = 86_400_000;

test("a CRL with more than a day left is kept; one about to expire is re-signed with its revocations", () => {
  const pki = ensureDevPki(dir);
  const first = crlOf();
  ensureDevPki(dir);
  assert.equal(crlOf().crlNumber, first.crlNumber, "a fresh CRL is not rewritten");

  // Half a day before the CRL's end, as a pool restarted a month later sees it.
  ensureDevPki(dir, Date.now() + (CRL_DAYS - 0.5) * DAY);
  const renewed = crlOf();
  assert.equal(renewed.crlNumber, (first.crlNumber ?? 0) + 1);
  assert.deepEqual([...renewed.revoked], [...first.revoked]);
  const r0 = readdirSync(pki.trustDir).filter((f) => f.endsWith(".r0"));
  assert.equal(r0.length, 1);
  const trusted = readFileSync(join(pki.trustDir, r0[0]), "utf8");
  assert.equal(trusted, readFileSync(join(dir, "crl.pem"), "utf8"), "servers read the new CRL");
  assert.deepEqual(loadTrustDir(pki.trustDir).problems, []);
});
