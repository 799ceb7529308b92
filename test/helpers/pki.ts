/**
 * A throw-away PKI for tests: a CA with a grid trust directory, a host certificate for
 * localhost/127.0.0.1, a user certificate for /DC=org/DC=example/CN=Alice and an RFC 3820 proxy of
 * it, all as files in a temporary directory. Keys are 2048 bits because Node's TLS refuses smaller.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { initCaDir, revokeInCaDir, writePrivateFile } from "../../src/security/ca-dir.js";
import { pemCertificates } from "../../src/security/cert-info.js";
import { issueHostCert, issueUserCert, type KeyAndCert } from "../../src/security/pki.js";
import { createProxy } from "../../src/security/proxy.js";
import { loadTrustDir, type TrustStore } from "../../src/security/trust.js";

export const TEST_CA_SUBJECT = "/DC=org/DC=example/CN=Example Test CA";
export const ALICE = "/DC=org/DC=example/CN=Alice";

export interface CredentialFiles extends KeyAndCert {
  certFile: string;
  keyFile: string;
}

export interface ProxyFile {
  /** The single-file credential: proxy, key, chain. */
  pem: string;
  file: string;
}

export interface TestPki {
  /** The temporary directory holding everything. */
  dir: string;
  /** The CA directory as `updraft ca init` makes it. */
  caHome: string;
  /** The trust directory (`<hash>.0`, `<hash>.r0`, `<hash>.signing_policy`). */
  caDir: string;
  ca: KeyAndCert;
  caCertFile: string;
  host: CredentialFiles;
  user: CredentialFiles & { subject: string };
  proxy: ProxyFile;
  /** Load the trust directory afresh (after a revocation, for instance). */
  trust(): TrustStore;
  issueUser(subject: string, opts?: { days?: number; bits?: number }): CredentialFiles;
  issueHost(host: string, opts?: { ips?: string[]; days?: number; bits?: number }): CredentialFiles;
  /** A proxy of a user credential or of an existing proxy file's PEM. */
  proxyOf(
    issuer: KeyAndCert | ProxyFile,
    opts?: { hours?: number; limited?: boolean; bits?: number },
  ): ProxyFile;
  /** Revoke a certificate (PEM) and rewrite the CRL in the trust directory. */
  revoke(certPem: string): void;
  /** The DER certificates of a PEM file's text, leaf first, for verifyChain. */
  chainDer(pem: string): Buffer[];
  cleanup(): void;
}

export function createTestPki(opts: { bits?: number } = {}): TestPki {
  const bits = opts.bits ?? 2048;
  const dir = mkdtempSync(join(tmpdir(), "updraft-pki-"));
  const caHome = join(dir, "ca");
  const { ca, paths } = initCaDir(caHome, { subject: TEST_CA_SUBJECT, bits, days: 30 });
  let n = 0;
  const save = (prefix: string, kc: KeyAndCert): CredentialFiles => {
    const certFile = join(dir, `${prefix}cert.pem`);
    const keyFile = join(dir, `${prefix}key.pem`);
    writeFileSync(certFile, kc.certPem);
    writePrivateFile(keyFile, kc.keyPem);
    return { ...kc, certFile, keyFile };
  };
  const issueUser: TestPki["issueUser"] = (subject, o = {}) =>
    save(`user${n++}-`, issueUserCert(ca, { subject, bits, days: o.days ?? 7, ...o }));
  const issueHost: TestPki["issueHost"] = (host, o = {}) =>
    save(`host${n++}-`, issueHostCert(ca, { host, bits, days: o.days ?? 7, ...o }));
  const proxyOf: TestPki["proxyOf"] = (issuer, o = {}) => {
    const pem =
      "pem" in issuer
        ? createProxy({ certChainPem: issuer.pem, keyPem: keyOf(issuer.pem), bits, ...o })
        : createProxy({ certChainPem: issuer.certPem, keyPem: issuer.keyPem, bits, ...o });
    const file = join(dir, `x509up_${n++}`);
    writePrivateFile(file, pem);
    return { pem, file };
  };
  const host = save(
    "host",
    issueHostCert(ca, { host: "localhost", ips: ["127.0.0.1"], bits, days: 7 }),
  );
  const user = {
    ...save("user", issueUserCert(ca, { subject: ALICE, bits, days: 7 })),
    subject: ALICE,
  };
  const proxy = proxyOf(user);
  return {
    dir,
    caHome,
    caDir: paths.trustDir,
    ca,
    caCertFile: paths.cert,
    host,
    user,
    proxy,
    trust: () => loadTrustDir(paths.trustDir),
    issueUser,
    issueHost,
    proxyOf,
    revoke: (certPem) => void revokeInCaDir(caHome, certPem),
    chainDer: (pem) => pemCertificates(pem),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

function keyOf(pem: string): string {
  const m = /-----BEGIN (RSA )?PRIVATE KEY-----[\s\S]*?-----END (RSA )?PRIVATE KEY-----/.exec(pem);
  if (!m) throw new Error("proxy PEM has no private key");
  return m[0] + "\n";
}
