import assert from "node:assert/strict";
import { after, test } from "node:test";
import {
  CertParseError,
  chainNotAfter,
  parseCertificate,
  pemCertificates,
} from "../../src/security/cert-info.js";
import { proxyRefusal } from "../../src/schedd/submit/derive-proxy.js";
import { loadClientCredentials } from "../../src/wire/client-tls.js";
import { createTestPki } from "../helpers/pki.js";

const pki = createTestPki();
after(() => pki.cleanup());

test("a chain expires with its first certificate to expire, in whatever order it comes", () => {
  const proxy = pki.proxyOf(pki.user, { hours: 2 });
  const chain = pemCertificates(proxy.pem);
  assert.ok(chain.length >= 2);
  const proxyEnd = parseCertificate(chain[0]!).notAfter;
  assert.ok(proxyEnd < parseCertificate(chain[1]!).notAfter);
  assert.deepEqual(chainNotAfter(chain), proxyEnd);
  assert.deepEqual(chainNotAfter([...chain].reverse()), proxyEnd);
  assert.equal(chainNotAfter([]), undefined);
  assert.throws(() => chainNotAfter([Buffer.from("not a certificate")]), CertParseError);
});

test("a client's credentials and a submitted proxy both end with the proxy, not its issuer", () => {
  const proxy = pki.proxyOf(pki.user, { hours: 2 });
  const proxyEnd = parseCertificate(pemCertificates(proxy.pem)[0]!).notAfter;
  const creds = loadClientCredentials({ credentialFile: proxy.file, caDir: pki.caDir });
  assert.deepEqual(creds.notAfter, proxyEnd);
  const afterProxy = proxyEnd.getTime() / 1000 + 60;
  assert.match(proxyRefusal(proxy.pem, afterProxy) ?? "", /has expired/);
  assert.equal(proxyRefusal(pki.user.certPem, afterProxy), undefined);
  assert.equal(proxyRefusal("no certificate here", 0), "holds no PEM certificate");
});
