/**
 * A second listener (metrics) with a certificate of its own still verifies peers as the daemon's
 * `tls` block says: same trust directory, TLS version, CA namespace and expired-CRL modes.
 */
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { listenerTlsMaterial, loadTlsMaterial } from "../../src/common/tls-rpc.js";
import { createTestPki } from "../helpers/pki.js";

const pki = createTestPki();
after(() => pki.cleanup());

test("a listener's own certificate keeps the daemon's trust directory and verification modes", () => {
  const daemon = loadTlsMaterial({
    cert_file: pki.host.certFile,
    key_file: pki.host.keyFile,
    trust_dir: pki.caDir,
    min_version: "1.2",
    ca_namespaces: "off",
    crl_expired: "warn",
  });
  const other = pki.issueHost("metrics.example.org");
  const own = listenerTlsMaterial(
    { cert_file: other.certFile, key_file: other.keyFile },
    daemon,
    "metrics.tls",
  );
  assert.equal(own.certPem, other.certPem, "the listener's own certificate serves");
  assert.notEqual(own.identity, daemon.identity);
  assert.deepEqual(
    [own.trustDir, own.minTlsVersion, own.caNamespaces, own.crlExpired],
    [pki.caDir, "TLSv1.2", "off", "warn"],
  );
  assert.equal(listenerTlsMaterial(undefined, daemon, "metrics.tls"), daemon);
});
