/**
 * The security errors an operator or user meets with their own files carry catalogued codes: a
 * private key that is encrypted or not a key, a revoked pilots file that does not parse, and a
 * credential file with no certificate, a host certificate that cannot be issued as asked, a
 * truncated CRL and a client trust directory without CA certificates. Their messages are unchanged.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { hasErrorCode } from "../../src/common/errors.js";
import { parseCrl } from "../../src/security/crl.js";
import { loadPrivateKey } from "../../src/security/keys.js";
import { issueHostCert } from "../../src/security/pki.js";
import { loadClientCredentials } from "../../src/wire/client-tls.js";
import { createTestPki } from "../helpers/pki.js";
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

test("a host certificate asked for a name that is none, or from a mismatched CA, is cert-issue", (t) => {
  const pki = createTestPki();
  t.after(() => rmSync(pki.dir, { recursive: true, force: true }));
  const issueError = (message: RegExp) => (err: unknown) => {
    assert.ok(hasErrorCode(err, "cert-issue"), String(err));
    assert.match((err as Error).message, message);
    return true;
  };
  assert.throws(
    () => issueHostCert(pki.ca, { host: "bad host!" }),
    issueError(/^"bad host!" is neither a host name nor an IP address$/),
  );
  assert.throws(
    () => issueHostCert(pki.ca, { host: "h.example.org", ips: ["::ffff:10.0.0.1"] }),
    issueError(/IPv6 address ::ffff:10\.0\.0\.1 with an embedded IPv4 part is not supported/),
  );
  assert.throws(
    () => issueHostCert({ certPem: pki.ca.certPem, keyPem: pki.user.keyPem }, { host: "h" }),
    issueError(/^the CA key does not belong to the CA certificate$/),
  );
  assert.throws(
    () => issueHostCert({ certPem: "", keyPem: pki.ca.keyPem }, { host: "h" }),
    (err) => hasErrorCode(err, "cert-invalid") && /holds no certificate/.test(err.message),
  );
});

test("a truncated CRL is der-invalid", () => {
  // A CertificateList SEQUENCE holding only one INTEGER where three parts belong.
  assert.throws(
    () => parseCrl(Buffer.from([0x30, 0x03, 0x02, 0x01, 0x00])),
    (err) => hasErrorCode(err, "der-invalid") && err.message === "truncated CRL",
  );
});

test("a client trust directory with no CA certificates is trust-invalid", (t) => {
  const pki = createTestPki();
  const empty = mkdtempSync(join(tmpdir(), "updraft-empty-trust-"));
  t.after(() => {
    rmSync(pki.dir, { recursive: true, force: true });
    rmSync(empty, { recursive: true, force: true });
  });
  assert.throws(
    () =>
      loadClientCredentials({
        caDir: empty,
        certPem: pki.user.certPem,
        keyPem: pki.user.keyPem,
      }),
    (err) =>
      hasErrorCode(err, "trust-invalid") &&
      err.message === `no CA certificates (<hash>.N files) in ${empty}`,
  );
});

test("a client credential file with a certificate but no key is client-credential", (t) => {
  const pki = createTestPki();
  t.after(() => rmSync(pki.dir, { recursive: true, force: true }));
  assert.throws(
    () => loadClientCredentials({ credentialFile: pki.user.certFile, caDir: pki.caDir }),
    (err) =>
      hasErrorCode(err, "client-credential") &&
      err.message ===
        "client credentials: give credentialFile, or certPem and keyPem, or a bearer token",
  );
});
