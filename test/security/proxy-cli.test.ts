/** `updraft proxy init|info|verify`: defaults, X509_* variables, file modes, exit codes, errors. */
import assert from "node:assert/strict";
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { pemCertificates, parseCertificate } from "../../src/security/cert-info.js";
import { createProxy } from "../../src/security/proxy.js";
import { ALICE, createTestPki, type TestPki } from "../helpers/pki.js";
import { FAST_BITS } from "./fixtures/bad-certs.js";
import { updraft, updraftOk } from "./cli.js";

let pki: TestPki;
let home: string;
before(() => {
  pki = createTestPki({ bits: FAST_BITS });
  home = join(pki.dir, "home");
  mkdirSync(join(home, ".globus"), { recursive: true });
  writeFileSync(join(home, ".globus", "usercert.pem"), pki.user.certPem);
  writeFileSync(join(home, ".globus", "userkey.pem"), pki.user.keyPem, { mode: 0o600 });
});
after(() => pki.cleanup());

const mode = (f: string) => statSync(f).mode & 0o777;
const leaf = (f: string) => parseCertificate(pemCertificates(readFileSync(f, "utf8"))[0]);
const clean = { X509_USER_CERT: "", X509_USER_KEY: "", X509_USER_PROXY: "" };

test("proxy init defaults to ~/.globus and writes $X509_USER_PROXY with mode 0600", () => {
  const out = join(pki.dir, "from-home");
  updraftOk(["proxy", "init"], { ...clean, HOME: home, X509_USER_PROXY: out });
  assert.equal(mode(out), 0o600);
  const p = leaf(out);
  assert.match(p.subject, new RegExp(`^${ALICE}/CN=\\d+$`));
  assert.equal(
    p.serialHex,
    BigInt(p.subject.split("CN=").pop() as string)
      .toString(16)
      .toUpperCase(),
  );
});

test("proxy init honours X509_USER_CERT and X509_USER_KEY", () => {
  const out = join(pki.dir, "from-env");
  updraftOk(["proxy", "init", "--out", out], {
    ...clean,
    HOME: "/nonexistent",
    X509_USER_CERT: pki.user.certFile,
    X509_USER_KEY: pki.user.keyFile,
  });
  assert.equal(leaf(out).issuer, ALICE);
});

test("proxy init --cert PROXYFILE takes the key from the proxy file", () => {
  const out = join(pki.dir, "second");
  updraftOk(["proxy", "init", "--cert", pki.proxy.file, "--out", out, "--hours", "1"], clean);
  const chain = pemCertificates(readFileSync(out, "utf8"));
  assert.equal(chain.length, 3);
  const v = updraftOk(["proxy", "verify", "--file", out, "--ca-dir", pki.caDir]);
  assert.equal(v.trim(), ALICE);
});

test("proxy init refuses a private key others can read", () => {
  const key = join(pki.dir, "open-key.pem");
  writeFileSync(key, pki.user.keyPem);
  chmodSync(key, 0o644);
  const r = updraft(
    ["proxy", "init", "--cert", pki.user.certFile, "--key", key, "--out", join(pki.dir, "x")],
    clean,
  );
  assert.equal(r.status, 1);
  assert.match(r.stderr, /open-key\.pem: private key is readable by others \(mode 644\)/);
});

test("proxy init reports a key that does not match the certificate", () => {
  const r = updraft(
    [
      "proxy",
      "init",
      "--cert",
      pki.user.certFile,
      "--key",
      pki.host.keyFile,
      "--out",
      join(pki.dir, "x"),
    ],
    clean,
  );
  assert.equal(r.status, 1);
  assert.match(r.stderr, /does not match the certificate/);
});

test("proxy info prints the fields grid users expect and exits 0 for a valid proxy", () => {
  const r = updraft(["proxy", "info", "--file", pki.proxy.file]);
  assert.equal(r.status, 0, r.stderr);
  for (const field of ["subject", "issuer", "identity", "type", "strength", "path", "timeleft"]) {
    assert.match(r.stdout, new RegExp(`^${field}\\s*: `, "m"));
  }
  assert.match(r.stdout, /type\s*: RFC 3820 compliant impersonation proxy/);
  assert.match(r.stdout, /identity\s*: \/DC=org\/DC=example\/CN=Alice$/m);
  assert.match(r.stdout, /strength\s*: 2048 bits/);
  assert.match(r.stdout, /timeleft\s*: (11:59|12:00):\d\d/);
});

test("proxy info --json describes limited proxies and end-entity certificates", () => {
  const limited = pki.proxyOf(pki.user, { limited: true });
  const j = JSON.parse(updraftOk(["proxy", "info", "--file", limited.file, "--json"]));
  assert.equal(j.type, "RFC 3820 compliant limited proxy");
  assert.equal(j.identity, ALICE);
  const ee = JSON.parse(updraftOk(["proxy", "info", "--file", pki.user.certFile, "--json"]));
  assert.equal(ee.type, "end entity certificate");
});

test("proxy info exits 1 for an expired proxy", () => {
  const twoHoursAgo = new Date(Date.now() - 2 * 3_600_000);
  const pem = createProxy({
    certChainPem: pki.user.certPem,
    keyPem: pki.user.keyPem,
    hours: 1,
    now: twoHoursAgo,
  });
  const f = join(pki.dir, "expired");
  writeFileSync(f, pem, { mode: 0o600 });
  const r = updraft(["proxy", "info", "--file", f]);
  assert.equal(r.status, 1);
  assert.match(r.stdout, /timeleft\s*: 0:00:00/);
});

test("proxy verify prints the identity, or one clear reason and exit 1", () => {
  assert.equal(
    updraftOk(["proxy", "verify", "--file", pki.proxy.file, "--ca-dir", pki.caDir]).trim(),
    ALICE,
  );
  const limited = pki.proxyOf(pki.user, { limited: true });
  const refused = updraft(["proxy", "verify", "--file", limited.file, "--ca-dir", pki.caDir]);
  assert.equal(refused.status, 1);
  assert.equal(refused.stderr.trim().split("\n").length, 1);
  assert.match(refused.stderr, /refused \(limited-proxy\)/);
  const allowed = updraft([
    "proxy",
    "verify",
    "--file",
    limited.file,
    "--ca-dir",
    pki.caDir,
    "--allow-limited",
  ]);
  assert.equal(allowed.status, 0, allowed.stderr);
});

test("proxy verify errors name the missing file or trust directory", () => {
  const missing = updraft([
    "proxy",
    "verify",
    "--file",
    join(pki.dir, "none"),
    "--ca-dir",
    pki.caDir,
  ]);
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /none: no such file/);
  const noCa = updraft([
    "proxy",
    "verify",
    "--file",
    pki.proxy.file,
    "--ca-dir",
    join(pki.dir, "no-ca"),
  ]);
  assert.equal(noCa.status, 1);
  assert.match(noCa.stderr, /cannot read trust directory .*no-ca/);
});

test("every proxy command has --help", () => {
  for (const sub of [[], ["init"], ["info"], ["verify"]]) {
    assert.match(updraftOk(["proxy", ...sub, "--help"]), /Usage: updraft proxy/);
  }
});
