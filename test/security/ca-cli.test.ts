/** `updraft ca init|issue|revoke|crl` as a user runs them: files, modes, extensions, errors, help. */
import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import {
  chmodSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { parseCertificate, pemCertificates, OID } from "../../src/security/cert-info.js";
import { updraft, updraftOk } from "./cli.js";

let dir: string;
let ca: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), "updraft-ca-cli-"));
  ca = join(dir, "ca");
  updraftOk(["ca", "init", "--dir", ca, "--subject", "/DC=org/DC=example/CN=CLI Test CA"]);
});
after(() => rmSync(dir, { recursive: true, force: true }));

const mode = (f: string) => statSync(f).mode & 0o777;
const certOf = (f: string) => parseCertificate(pemCertificates(readFileSync(f, "utf8"))[0]);

test("ca init writes the CA, a 0600 key and a trust directory in grid layout", () => {
  assert.equal(mode(join(ca, "ca-key.pem")), 0o600);
  assert.equal(certOf(join(ca, "ca.pem")).subject, "/DC=org/DC=example/CN=CLI Test CA");
  const files = readdirSync(join(ca, "certificates")).sort();
  assert.equal(files.length, 3);
  const hash = files[0].slice(0, 8);
  assert.deepEqual(files, [`${hash}.0`, `${hash}.r0`, `${hash}.signing_policy`]);
  const policy = readFileSync(join(ca, "certificates", `${hash}.signing_policy`), "utf8");
  assert.match(policy, /access_id_CA\s+X509\s+'\/DC=org\/DC=example\/CN=CLI Test CA'/);
  assert.match(policy, /cond_subjects\s+globus\s+'"\/DC=org\/DC=example\/\*"'/);
});

test("ca init refuses to replace an existing CA", () => {
  const r = updraft(["ca", "init", "--dir", ca]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /ca-key\.pem already exists/);
});

test("ca issue --host writes PREFIXcert.pem and a 0600 PREFIXkey.pem with server and client auth", () => {
  updraftOk([
    "ca",
    "issue",
    "--dir",
    ca,
    "--host",
    "localhost",
    "--ip",
    "10.0.0.7",
    "--out",
    join(dir, "host"),
  ]);
  assert.equal(mode(join(dir, "hostkey.pem")), 0o600);
  const info = certOf(join(dir, "hostcert.pem"));
  assert.equal(info.subject, "/DC=org/DC=example/CN=localhost");
  assert.deepEqual(info.extKeyUsage, [OID.ekuServerAuth, OID.ekuClientAuth]);
  const x = new X509Certificate(readFileSync(join(dir, "hostcert.pem")));
  assert.ok(x.checkHost("localhost"));
  assert.ok(x.checkIP("127.0.0.1"));
  assert.ok(x.checkIP("10.0.0.7"));
  assert.equal(x.ca, false);
});

test("ca issue --user makes a clientAuth certificate; --out ~/.globus/user gives usercert.pem and userkey.pem", () => {
  const globus = join(dir, "home", ".globus");
  updraftOk([
    "ca",
    "issue",
    "--dir",
    ca,
    "--user",
    "/DC=org/DC=example/CN=Alice",
    "--out",
    join(globus, "user"),
  ]);
  assert.ok(existsSync(join(globus, "usercert.pem")));
  assert.equal(mode(join(globus, "userkey.pem")), 0o600);
  const info = certOf(join(globus, "usercert.pem"));
  assert.equal(info.subject, "/DC=org/DC=example/CN=Alice");
  assert.deepEqual(info.extKeyUsage, [OID.ekuClientAuth]);
});

test("issuing again over an existing key file keeps it private", () => {
  const prefix = join(dir, "again");
  updraftOk(["ca", "issue", "--dir", ca, "--user", "/DC=org/DC=example/CN=Again", "--out", prefix]);
  chmodSync(`${prefix}key.pem`, 0o644);
  updraftOk(["ca", "issue", "--dir", ca, "--user", "/DC=org/DC=example/CN=Again", "--out", prefix]);
  assert.equal(mode(`${prefix}key.pem`), 0o600);
});

test("a user outside the CA's namespace is issued with a warning about Globus tools", () => {
  const r = updraft([
    "ca",
    "issue",
    "--dir",
    ca,
    "--user",
    "/DC=org/DC=elsewhere/CN=Zed",
    "--out",
    join(dir, "zed"),
  ]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /warning: .*outside this CA's signing policy namespace/);
});

test("errors say what and where, and exit non-zero", () => {
  const cases: [string[], RegExp][] = [
    [
      ["ca", "issue", "--dir", join(dir, "nope"), "--user", "/CN=x", "--out", join(dir, "x")],
      /nope\/ca\.pem does not exist/,
    ],
    [
      ["ca", "issue", "--dir", ca, "--out", join(dir, "x")],
      /exactly one of --host NAME or --user DN/,
    ],
    [
      ["ca", "issue", "--dir", ca, "--user", "CN=x", "--out", join(dir, "x")],
      /--user: DN "CN=x" must start with "\/"/,
    ],
    [
      ["ca", "issue", "--dir", ca, "--user", "/XX=1", "--out", join(dir, "x")],
      /unknown attribute type "XX"/,
    ],
    [
      ["ca", "issue", "--dir", ca, "--host", "bad host!", "--out", join(dir, "x")],
      /--host: "bad host!" is neither/,
    ],
    [
      ["ca", "init", "--dir", join(dir, "y"), "--days", "-3"],
      /--days must be a positive whole number/,
    ],
    [
      ["ca", "init", "--dir", join(dir, "weak"), "--bits", "1024"],
      /--bits must be at least 2048: servers refuse RSA keys under 2048 bits/,
    ],
    [
      [
        "ca",
        "issue",
        "--dir",
        ca,
        "--user",
        "/DC=org/DC=example/CN=W",
        "--bits",
        "1024",
        "--out",
        join(dir, "w"),
      ],
      /--bits must be at least 2048/,
    ],
    [
      ["proxy", "init", "--cert", join(dir, "none.pem"), "--bits", "512"],
      /--bits must be at least 2048/,
    ],
    [
      ["ca", "revoke", "--dir", ca, "--cert", join(dir, "missing.pem")],
      /missing\.pem: no such file/,
    ],
  ];
  for (const [args, re] of cases) {
    const r = updraft(args);
    assert.notEqual(r.status, 0, `updraft ${args.join(" ")} should fail`);
    assert.match(r.stderr, re);
    assert.doesNotMatch(r.stderr, /at .*\.js:\d+/, "no stack trace");
  }
});

test("every ca command has --help", () => {
  for (const sub of [[], ["init"], ["issue"], ["revoke"], ["crl"]]) {
    const out = updraftOk(["ca", ...sub, "--help"]);
    assert.match(out, /Usage: updraft ca/);
  }
});
