/**
 * Proxies made by `updraft proxy init` as OpenSSL and the VOMS client see them:
 * `openssl verify -allow_proxy_certs` answers OK and `voms-proxy-info -all` reads an RFC proxy.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { updraftOk } from "./cli.js";
import { output, requireTool, run } from "./tools.js";

const ALICE = "/DC=org/DC=example/CN=Alice";
let dir: string;
let trustDir: string;

before(() => {
  requireTool("openssl");
  requireTool("voms-proxy-info");
  dir = mkdtempSync(join(tmpdir(), "updraft-ossl-"));
  updraftOk(["ca", "init", "--bits", "2048", "--dir", join(dir, "ca")]);
  updraftOk([
    "ca",
    "issue",
    "--bits",
    "2048",
    "--dir",
    join(dir, "ca"),
    "--user",
    ALICE,
    "--out",
    join(dir, "user"),
  ]);
  trustDir = join(dir, "ca", "certificates");
});
after(() => rmSync(dir, { recursive: true, force: true }));

function proxyInit(name: string, ...flags: string[]): string {
  const out = join(dir, name);
  updraftOk([
    "proxy",
    "init",
    "--cert",
    join(dir, "usercert.pem"),
    "--key",
    join(dir, "userkey.pem"),
    "--out",
    out,
    ...flags,
  ]);
  return out;
}

function opensslVerify(file: string, ...flags: string[]) {
  return run("openssl", ["verify", ...flags, "-CApath", trustDir, "-untrusted", file, file]);
}

test("openssl verify -allow_proxy_certs accepts an updraft proxy, and refuses it without the flag", () => {
  const f = proxyInit("x509up", "--bits", "2048");
  assert.equal(statSync(f).mode & 0o777, 0o600);
  const ok = opensslVerify(f, "-allow_proxy_certs");
  assert.equal(ok.status, 0, output(ok));
  assert.match(ok.stdout, /: OK/);
  const refused = opensslVerify(f);
  assert.notEqual(refused.status, 0);
  assert.match(output(refused), /error 40|proxy certificates not allowed/);
});

test("openssl accepts proxies of proxies and limited proxies made by updraft", () => {
  const second = join(dir, "second");
  updraftOk([
    "proxy",
    "init",
    "--cert",
    proxyInit("first", "--bits", "2048"),
    "--out",
    second,
    "--hours",
    "2",
    "--bits",
    "2048",
  ]);
  const r = opensslVerify(second, "-allow_proxy_certs");
  assert.equal(r.status, 0, output(r));
  const limited = opensslVerify(
    proxyInit("limited", "--limited", "--bits", "2048"),
    "-allow_proxy_certs",
  );
  assert.equal(limited.status, 0, output(limited));
});

test("voms-proxy-info -all reads an updraft proxy (default 2048 bits) as an RFC compliant proxy", () => {
  const f = proxyInit("voms", "--hours", "3");
  const r = run("voms-proxy-info", ["-file", f, "-all"], { X509_CERT_DIR: trustDir });
  assert.equal(r.status, 0, output(r));
  assert.match(r.stdout, /type\s*:\s*RFC compliant proxy/);
  assert.match(r.stdout, new RegExp(`identity\\s*:\\s*${ALICE}\\n`));
  assert.match(r.stdout, /strength\s*:\s*2048/);
  assert.match(r.stdout, /timeleft\s*:\s*(2:59|3:00):\d\d/);
});
