/**
 * The security errors an operator or user meets with their own files carry catalogued codes: a
 * private key that is encrypted or not a key, a revoked pilots file that does not parse, and a
 * credential file with no certificate. Their messages are unchanged.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { hasErrorCode } from "../../src/common/errors.js";
import { loadPrivateKey } from "../../src/security/keys.js";
import { createPilotRevocationFile } from "../../src/security/pilot-revocations.js";
import { describeCredential } from "../../src/security/proxy-info.js";

test("an encrypted or unreadable private key is key-invalid", () => {
  const encrypted =
    "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIB\n-----END ENCRYPTED PRIVATE KEY-----\n";
  assert.throws(
    () => loadPrivateKey(encrypted),
    (err) => hasErrorCode(err, "key-invalid") && /encrypted with a pass phrase/.test(err.message),
  );
  assert.throws(
    () => loadPrivateKey("-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n"),
    (err) => hasErrorCode(err, "key-invalid") && /could not be read/.test(err.message),
  );
});

test("a revoked pilots file that does not parse is revoked-pilots, naming the file and line", () => {
  const dir = mkdtempSync(join(tmpdir(), "updraft-revoked-"));
  try {
    const file = join(dir, "revoked");
    writeFileSync(file, "p1\nnot a pilot id!\n");
    assert.throws(
      () => createPilotRevocationFile(file),
      (err) =>
        hasErrorCode(err, "revoked-pilots") && err.message === `${file}: line 2 is not a pilot id`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a credential file with no certificate is cert-invalid", () => {
  assert.throws(
    () => describeCredential("no pem here\n", "/tmp/x509up_u1"),
    (err) =>
      hasErrorCode(err, "cert-invalid") && err.message === "/tmp/x509up_u1: no certificate found",
  );
});
