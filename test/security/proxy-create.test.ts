/** createProxy's certificate: RFC 3820 shape, lifetime limits, file layout, and readCredentialFile. */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import {
  KeyUsageBit,
  OID,
  parseCertificate,
  pemCertificates,
} from "../../src/security/cert-info.js";
import { readCredentialFile } from "../../src/security/credential-file.js";
import { ProxyError, createProxy } from "../../src/security/proxy.js";
import { ALICE, createTestPki, type TestPki } from "../helpers/pki.js";
import { FAST_BITS } from "./fixtures/bad-certs.js";

let pki: TestPki;
before(() => {
  pki = createTestPki({ bits: FAST_BITS });
});
after(() => pki.cleanup());

test("a proxy is the issuer's subject plus CN=<its serial>, with critical inheritAll ProxyCertInfo", () => {
  const [proxy, user] = pemCertificates(pki.proxy.pem).map(parseCertificate);
  assert.equal(user.subject, ALICE);
  assert.ok(proxy.issuerDer.equals(user.subjectDer), "issuer bytes equal the user's subject");
  const cn = proxy.subject.slice(ALICE.length + 4);
  assert.equal(proxy.subject, `${ALICE}/CN=${cn}`);
  assert.equal(BigInt(cn).toString(16).toUpperCase(), proxy.serialHex);
  assert.deepEqual(proxy.proxyCertInfo, {
    critical: true,
    pathLen: undefined,
    policyLanguage: OID.policyInheritAll,
  });
  assert.deepEqual([...(proxy.keyUsage ?? [])].sort(), [
    KeyUsageBit.digitalSignature,
    KeyUsageBit.keyEncipherment,
  ]);
  assert.equal(proxy.basicConstraints, undefined);
  assert.equal(proxy.keyBits, FAST_BITS);
});

// Certificate times have whole seconds: round towards the requested instant.
test("a proxy's key is 2048 bits unless asked otherwise, like grid-proxy-init", () => {
  const pem = createProxy({ certChainPem: pki.user.certPem, keyPem: pki.user.keyPem });
  assert.equal(parseCertificate(pemCertificates(pem)[0]).keyBits, 2048);
});

test("a proxy is valid from five minutes ago and never outlives its issuer", () => {
  const now = new Date();
  const pem = createProxy({
    certChainPem: pki.user.certPem,
    keyPem: pki.user.keyPem,
    hours: 10_000,
    now,
  });
  const [proxy, user] = pemCertificates(pem).map(parseCertificate);
  assert.equal(Math.floor((now.getTime() - proxy.notBefore.getTime()) / 1000), 300);
  assert.equal(proxy.notAfter.getTime(), user.notAfter.getTime());
  const short = parseCertificate(
    pemCertificates(
      createProxy({ certChainPem: pki.user.certPem, keyPem: pki.user.keyPem, hours: 2, now }),
    )[0],
  );
  assert.equal(Math.ceil((short.notAfter.getTime() - now.getTime()) / 1000), 7200);
});

test("the single-file layout is proxy certificate, its key, then the chain", () => {
  const blocks = [...pki.proxy.pem.matchAll(/-----BEGIN ([A-Z ]+)-----/g)].map((m) => m[1]);
  assert.deepEqual(blocks, ["CERTIFICATE", "RSA PRIVATE KEY", "CERTIFICATE"]);
  const cred = readCredentialFile(pki.proxy.pem);
  assert.equal(cred.chainPem.length, 2);
  assert.match(cred.keyPem ?? "", /^-----BEGIN RSA PRIVATE KEY-----/);
  assert.equal(readCredentialFile(pki.user.certPem).keyPem, undefined);
});

test("limited proxies use the Globus limited policy, and proxies of them stay limited", () => {
  const limited = pki.proxyOf(pki.user, { limited: true });
  const first = parseCertificate(pemCertificates(limited.pem)[0]);
  assert.equal(first.proxyCertInfo?.policyLanguage, OID.policyLimited);
  const next = parseCertificate(pemCertificates(pki.proxyOf(limited).pem)[0]);
  assert.equal(next.proxyCertInfo?.policyLanguage, OID.policyLimited);
});

test("createProxy refuses a mismatched key, a CA certificate and an expired issuer", () => {
  assert.throws(
    () => createProxy({ certChainPem: pki.user.certPem, keyPem: pki.host.keyPem }),
    ProxyError,
  );
  assert.throws(
    () => createProxy({ certChainPem: pki.ca.certPem, keyPem: pki.ca.keyPem }),
    /is a CA certificate/,
  );
  const later = new Date(Date.now() + 365 * 86_400_000);
  assert.throws(
    () => createProxy({ certChainPem: pki.user.certPem, keyPem: pki.user.keyPem, now: later }),
    /expired at/,
  );
  assert.throws(
    () => createProxy({ certChainPem: "", keyPem: pki.user.keyPem }),
    /no certificate found/,
  );
});
