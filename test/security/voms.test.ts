/**
 * VOMS attributes read from a real VOMS proxy (made by the VOMS clients' voms-proxy-fake): the
 * VO and FQANs as voms-proxy-info shows them, HTCondor's `x509UserProxyFQAN` form, and damaged
 * or absent attribute certificates read as none.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { pemCertificates } from "../../src/security/cert-info.js";
import { VOMS_AC_EXTENSION, dnAndFqans, vomsAttributes } from "../../src/security/voms.js";
import { ALICE, createTestPki, type TestPki } from "../helpers/pki.js";
import { output, run, vomsProxy } from "./tools.js";

let pki: TestPki;
let chain: Buffer[];
const FQANS = ["/cms/Role=NULL/Capability=NULL", "/cms/uscms/Role=production/Capability=NULL"];

before(() => {
  pki = createTestPki();
  const out = join(pki.dir, "voms-proxy");
  vomsProxy({ user: pki.user, host: pki.host, vo: "cms", fqans: FQANS, out });
  chain = pemCertificates(readFileSync(out, "latin1"));
  const info = run("voms-proxy-info", ["-vo", "-fqan", "-file", out]);
  assert.equal(info.status, 0, output(info));
  assert.deepEqual(info.stdout.trim().split("\n"), ["cms", ...FQANS], "the VOMS clients agree");
});
after(() => pki.cleanup());

test("a VOMS proxy's VO and FQANs, in the order the VOMS server granted them", () => {
  assert.deepEqual(vomsAttributes(chain), { vo: "cms", fqans: FQANS });
});

test("a proxy of a VOMS proxy still names the VO its parent carries", () => {
  const child = pki.proxyOf({ pem: readFileSync(join(pki.dir, "voms-proxy"), "latin1"), file: "" });
  assert.deepEqual(vomsAttributes(pemCertificates(child.pem)), { vo: "cms", fqans: FQANS });
});

test("a plain proxy has no VOMS attributes", () => {
  assert.equal(vomsAttributes(pemCertificates(pki.proxy.pem)), undefined);
});

test("a damaged attribute certificate reads as none, never as a throw", () => {
  const leaf = chain[0]!;
  const oid = Buffer.from([0x06, 0x0a, 0x2b, 0x06, 0x01, 0x04, 0x01, 0xbe, 0x45, 0x64, 0x64, 0x05]);
  const at = leaf.indexOf(oid);
  assert.ok(at > 0, `the leaf carries ${VOMS_AC_EXTENSION}`);
  // Flip bytes across the attribute certificate: whatever the parse meets, it must not throw.
  for (let off = at + oid.length + 8; off < Math.min(leaf.length, at + 600); off += 7) {
    const bad = Buffer.from(leaf);
    bad[off] = bad[off]! ^ 0xff;
    const r = vomsAttributes([bad, ...chain.slice(1)]);
    assert.ok(r === undefined || typeof r.vo === "string");
  }
});

test("x509UserProxyFQAN is the subject then each FQAN, with commas and ampersands escaped", () => {
  assert.equal(
    dnAndFqans(ALICE, FQANS),
    `${ALICE},/cms/Role=NULL/Capability=NULL,/cms/uscms/Role=production/Capability=NULL`,
  );
  assert.equal(dnAndFqans("/CN=a,b&c", ["/vo/x,y"]), "/CN=a&comma;b&amp;c,/vo/x&comma;y");
});
