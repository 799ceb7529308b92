/**
 * Proxies made by the real grid-proxy-init from a certificate `updraft ca` issued: RFC 3820
 * proxies are accepted, limited ones only where allowed, legacy (-old) ones refused.
 */
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

const ALICE = "/DC=org/DC=example/CN=Alice";
let dir: string;
let trustDir: string;

before(() => {
  requireTool("grid-proxy-init");
  dir = mkdtempSync(join(tmpdir(), "updraft-gpi-"));
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

function gridProxyInit(name: string, ...flags: string[]): string {
  const out = join(dir, name);
  const r = run("grid-proxy-init", [
    ...flags,
    "-cert",
    join(dir, "usercert.pem"),
    "-key",
    join(dir, "userkey.pem"),
    "-certdir",
    trustDir,
    "-out",
    out,
  ]);
  assert.equal(r.status, 0, `grid-proxy-init ${flags.join(" ")} failed: ${output(r)}`);
  return out;
}

const chainOf = (file: string) => pemCertificates(readFileSync(file, "utf8"));

test("an RFC 3820 proxy from grid-proxy-init -rfc is accepted with the user's identity", () => {
  const r = verifyChain(chainOf(gridProxyInit("rfc", "-rfc")), loadTrustDir(trustDir));
  assert.ok(r.ok, JSON.stringify(r));
  assert.equal(r.identity, ALICE);
  assert.equal(r.limited, false);
  assert.equal(r.proxyDepth, 1);
});

test("a limited proxy from grid-proxy-init -rfc -limited is accepted only with allowLimited", () => {
  const chain = chainOf(gridProxyInit("limited", "-rfc", "-limited"));
  const trust = loadTrustDir(trustDir);
  const refused = verifyChain(chain, trust);
  assert.equal(refused.ok || refused.code, "limited-proxy");
  const allowed = verifyChain(chain, trust, { allowLimited: true });
  assert.ok(allowed.ok && allowed.limited && allowed.identity === ALICE, JSON.stringify(allowed));
});

test("a legacy proxy from grid-proxy-init -old is refused as legacy", () => {
  const r = verifyChain(chainOf(gridProxyInit("old", "-old")), loadTrustDir(trustDir));
  assert.equal(r.ok || r.code, "legacy-proxy");
});

test("updraft proxy verify agrees on grid-proxy-init's proxies", () => {
  const ok = updraft([
    "proxy",
    "verify",
    "--file",
    gridProxyInit("rfc2", "-rfc"),
    "--ca-dir",
    trustDir,
  ]);
  assert.equal(ok.status, 0, ok.stderr);
  assert.equal(ok.stdout.trim(), ALICE);
  const old = updraft([
    "proxy",
    "verify",
    "--file",
    gridProxyInit("old2", "-old"),
    "--ca-dir",
    trustDir,
  ]);
  assert.equal(old.status, 1);
  assert.match(old.stderr, /legacy-proxy/);
});

test("updraft proxy init can delegate further from a grid-proxy-init proxy", () => {
  const out = join(dir, "delegated");
  updraftOk([
    "proxy",
    "init",
    "--cert",
    gridProxyInit("rfc3", "-rfc"),
    "--out",
    out,
    "--hours",
    "1",
  ]);
  const r = verifyChain(chainOf(out), loadTrustDir(trustDir));
  assert.ok(r.ok && r.proxyDepth === 2 && r.identity === ALICE, JSON.stringify(r));
});
