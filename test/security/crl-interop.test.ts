/** `updraft ca revoke` writes a CRL that OpenSSL honours and verifyChain reads from `<hash>.r0`. */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { pemCertificates } from "../../src/security/cert-info.js";
import { loadTrustDir } from "../../src/security/trust.js";
import { verifyChain } from "../../src/security/verify.js";
import { updraft, updraftOk } from "./cli.js";
import { output, requireTool, run } from "./tools.js";

let dir: string;
let trustDir: string;

before(() => {
  requireTool("openssl");
  dir = mkdtempSync(join(tmpdir(), "updraft-crl-"));
  updraftOk(["ca", "init", "--bits", "2048", "--dir", join(dir, "ca")]);
  for (const who of ["good", "bad"]) {
    updraftOk([
      "ca",
      "issue",
      "--bits",
      "2048",
      "--dir",
      join(dir, "ca"),
      "--user",
      `/DC=org/DC=example/CN=${who}`,
      "--out",
      join(dir, who),
    ]);
  }
  trustDir = join(dir, "ca", "certificates");
});
after(() => rmSync(dir, { recursive: true, force: true }));

const crlCheck = (file: string) =>
  run("openssl", ["verify", "-crl_check", "-CApath", trustDir, file]);

test("before revocation openssl verify -crl_check accepts both certificates", () => {
  for (const who of ["good", "bad"]) {
    const r = crlCheck(join(dir, `${who}cert.pem`));
    assert.equal(r.status, 0, output(r));
  }
});

test("after updraft ca revoke, openssl and verifyChain both refuse the revoked certificate only", () => {
  const revoke = updraft([
    "ca",
    "revoke",
    "--dir",
    join(dir, "ca"),
    "--cert",
    join(dir, "badcert.pem"),
  ]);
  assert.equal(revoke.status, 0, revoke.stderr);
  assert.match(revoke.stdout, /revoked \/DC=org\/DC=example\/CN=bad/);

  const bad = crlCheck(join(dir, "badcert.pem"));
  assert.notEqual(bad.status, 0);
  assert.match(output(bad), /certificate revoked/);
  const good = crlCheck(join(dir, "goodcert.pem"));
  assert.equal(good.status, 0, output(good));

  const trust = loadTrustDir(trustDir);
  assert.deepEqual(trust.problems, []);
  const chain = (who: string) => pemCertificates(readFileSync(join(dir, `${who}cert.pem`), "utf8"));
  const r = verifyChain(chain("bad"), trust);
  assert.equal(r.ok || r.code, "revoked");
  assert.ok(verifyChain(chain("good"), trust).ok);
});

test("the CRL parses with openssl, names the CA and counts up its CRL number", () => {
  updraftOk(["ca", "revoke", "--dir", join(dir, "ca"), "--cert", join(dir, "badcert.pem")]);
  const r = run("openssl", [
    "crl",
    "-in",
    join(dir, "ca", "crl.pem"),
    "-noout",
    "-text",
    "-CAfile",
    join(dir, "ca", "ca.pem"),
  ]);
  assert.equal(r.status, 0, output(r));
  assert.match(output(r), /verify OK/);
  assert.match(r.stdout, /X509v3 CRL Number:\s*\n\s*3/);
  assert.equal(
    (r.stdout.match(/Serial Number:/g) ?? []).length,
    1,
    "revoking twice lists the certificate once",
  );
});

test("ca crl re-signs the CRL later with the same revocations, and openssl still refuses the revoked one", () => {
  const crlFile = join(dir, "ca", "crl.pem");
  const text = (f: string) =>
    run("openssl", ["crl", "-in", f, "-noout", "-text", "-CAfile", join(dir, "ca", "ca.pem")]);
  const before = text(crlFile);
  const number = (out: string) => Number(/X509v3 CRL Number:\s*\n\s*(\d+)/.exec(out)?.[1]);
  const out = updraftOk(["ca", "crl", "--dir", join(dir, "ca")]);
  assert.match(out, /CRL re-signed for 30 days/);
  const after = text(crlFile);
  assert.equal(after.status, 0, output(after));
  assert.match(output(after), /verify OK/);
  assert.equal(number(after.stdout), number(before.stdout) + 1);
  assert.equal((after.stdout.match(/Serial Number:/g) ?? []).length, 1, "the revocation stays");
  const bad = crlCheck(join(dir, "badcert.pem"));
  assert.match(output(bad), /certificate revoked/);
});

test("revoking a certificate from another CA is an error naming the file", () => {
  const other = join(dir, "other");
  updraftOk([
    "ca",
    "init",
    "--bits",
    "2048",
    "--dir",
    other,
    "--subject",
    "/DC=org/DC=other/CN=Other CA",
  ]);
  updraftOk([
    "ca",
    "issue",
    "--bits",
    "2048",
    "--dir",
    other,
    "--user",
    "/DC=org/DC=other/CN=x",
    "--out",
    join(dir, "x"),
  ]);
  const r = updraft(["ca", "revoke", "--dir", join(dir, "ca"), "--cert", join(dir, "xcert.pem")]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /xcert\.pem: .*not issued by this CA/);
});
