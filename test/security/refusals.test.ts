/**
 * Every refusal verifyChain can give, each with a real certificate made to break exactly one rule.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createPrivateKey } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { buildCrl } from "../../src/security/crl.js";
import { generateRsaKey } from "../../src/security/keys.js";
import { after, before, describe, test } from "node:test";
import {
  basicConstraintsExt,
  keyUsageExt,
  extKeyUsageExt,
  proxyCertInfoExt,
} from "../../src/security/cert-builder.js";
import { KeyUsageBit, OID, parseCertificate } from "../../src/security/cert-info.js";
import { appendCn, encodeSlashDn } from "../../src/security/dn-encode.js";
import { subjectHash } from "../../src/security/dn.js";
import { createCA, issueUserCert } from "../../src/security/pki.js";
import { createTrustStore, type TrustStore } from "../../src/security/trust.js";
import {
  VERIFY_FAILURE_CODES,
  verifyChain,
  type VerifyFailureCode,
} from "../../src/security/verify.js";
import { ALICE, TEST_CA_SUBJECT, createTestPki, type TestPki } from "../helpers/pki.js";
import {
  FAST_BITS,
  asIssuer,
  caExtensions,
  issuerFromPem,
  make,
  makeProxy,
  proxyExtensions,
  userExtensions,
  type Issuer,
} from "./fixtures/bad-certs.js";

const HOUR = 3_600_000;

const hashOf = (der: Buffer) => subjectHash(parseCertificate(der).subjectDer);

interface Case {
  name: string;
  code: VerifyFailureCode;
  chain: () => Buffer[];
  trust?: () => TrustStore;
  allowLimited?: boolean;
}

let pki: TestPki;
let ca: Issuer;
let alice: Issuer;
let aliceDer: Buffer;

before(() => {
  pki = createTestPki({ bits: FAST_BITS });
  ca = issuerFromPem(pki.ca.certPem, pki.ca.keyPem);
  alice = issuerFromPem(pki.user.certPem, pki.user.keyPem);
  aliceDer = alice.der;
});
after(() => pki.cleanup());

const user = (extra: Parameters<typeof make>[0] extends infer O ? Partial<O> : never = {}) =>
  make({
    issuer: ca,
    subject: "/DC=org/DC=example/CN=Bob",
    extensions: userExtensions(),
    ...extra,
  });

const cases: Case[] = [
  { name: "no certificate at all", code: "empty-chain", chain: () => [] },
  {
    name: "bytes that are not a certificate",
    code: "malformed",
    chain: () => [Buffer.from("not a certificate")],
  },
  {
    name: "a user certificate from a CA not in the trust directory",
    code: "unknown-issuer",
    chain: () => {
      const other = createCA({ subject: "/DC=org/DC=other/CN=Other CA", bits: FAST_BITS });
      const u = issueUserCert(other, { subject: "/DC=org/DC=other/CN=Mallory", bits: FAST_BITS });
      return pki.chainDer(u.certPem);
    },
  },
  {
    name: "a certificate naming the trusted CA but signed by another key",
    code: "bad-signature",
    chain: () => [
      user({ signingKeyPem: createCA({ subject: TEST_CA_SUBJECT, bits: FAST_BITS }).keyPem }).der,
    ],
  },
  {
    name: "a proxy signed by a key other than its issuer's",
    code: "bad-signature",
    chain: () => [makeProxy(alice, { signingKeyPem: pki.host.keyPem }).der, aliceDer],
  },
  {
    name: "an expired user certificate",
    code: "expired",
    chain: () => [
      user({ notBefore: new Date(Date.now() - 48 * HOUR), notAfter: new Date(Date.now() - HOUR) })
        .der,
    ],
  },
  {
    name: "an expired proxy in front of a valid user certificate",
    code: "expired",
    chain: () => [
      makeProxy(alice, {
        notBefore: new Date(Date.now() - 3 * HOUR),
        notAfter: new Date(Date.now() - HOUR),
      }).der,
      aliceDer,
    ],
  },
  {
    name: "a user certificate not valid yet",
    code: "not-yet-valid",
    chain: () => [
      user({ notBefore: new Date(Date.now() + HOUR), notAfter: new Date(Date.now() + 48 * HOUR) })
        .der,
    ],
  },
  {
    name: "a proxy of a revoked user certificate",
    code: "revoked",
    chain: () => {
      const bob = pki.issueUser("/DC=org/DC=example/CN=Revoked Bob");
      pki.revoke(bob.certPem);
      return pki.chainDer(pki.proxyOf(bob).pem);
    },
    trust: () => pki.trust(),
  },
  {
    name: "the CA certificate itself as a client",
    code: "ca-as-client",
    chain: () => pki.chainDer(pki.ca.certPem),
  },
  {
    name: "an intermediate CA certificate as a client",
    code: "ca-as-client",
    chain: () => [
      make({ issuer: ca, subject: "/DC=org/DC=example/CN=Sub CA", extensions: caExtensions() }).der,
    ],
  },
  {
    name: "a proxy whose subject is another DN plus a CN",
    code: "bad-proxy-subject",
    chain: () => [
      makeProxy(alice, { subjectDer: appendCn(encodeSlashDn("/DC=org/DC=example/CN=Bob"), "1") })
        .der,
      aliceDer,
    ],
  },
  {
    name: "a proxy whose subject adds two CNs",
    code: "bad-proxy-subject",
    chain: () => [
      makeProxy(alice, { subjectDer: encodeSlashDn(`${ALICE}/CN=1/CN=2`) }).der,
      aliceDer,
    ],
  },
  {
    name: "a certificate issued by a user without ProxyCertInfo",
    code: "proxy-info-missing",
    chain: () => [makeProxy(alice, { extensions: userExtensions() }).der, aliceDer],
  },
  {
    name: "a proxy whose ProxyCertInfo is not critical",
    code: "proxy-info-missing",
    chain: () => [
      makeProxy(alice, { extensions: proxyExtensions({ critical: false }) }).der,
      aliceDer,
    ],
  },
  {
    name: "a proxy chain longer than the first proxy's pCPathLenConstraint",
    code: "path-length",
    chain: () => {
      const p1 = makeProxy(alice, { extensions: proxyExtensions({ pathLen: 0 }) });
      const p2 = makeProxy(asIssuer(p1), { cn: "678" });
      return [p2.der, p1.der, aliceDer];
    },
  },
  {
    name: "an intermediate CA below a root whose pathLenConstraint is 0",
    code: "path-length",
    ...(() => {
      let root: ReturnType<typeof make> | undefined;
      const rootCa = () =>
        (root ??= make({
          issuer: "self",
          subject: "/DC=org/DC=strict/CN=Root",
          extensions: caExtensions(0),
        }));
      return {
        trust: () => createTrustStore({ cas: [{ data: rootCa().der, source: "root" }] }),
        chain: () => {
          const sub = make({
            issuer: asIssuer(rootCa()),
            subject: "/DC=org/DC=strict/CN=Sub",
            extensions: caExtensions(),
          });
          const leaf = make({
            issuer: asIssuer(sub),
            subject: "/DC=org/DC=strict/CN=Carol",
            extensions: userExtensions(),
          });
          return [leaf.der, sub.der];
        },
      };
    })(),
  },
  {
    name: "more certificates than any real chain has",
    code: "path-length",
    chain: () => Array.from({ length: 17 }, () => aliceDer),
  },
  {
    name: "a legacy Globus proxy (CN=proxy, no ProxyCertInfo)",
    code: "legacy-proxy",
    chain: () => [
      makeProxy(alice, { cn: "proxy", extensions: [keyUsageExt([KeyUsageBit.digitalSignature])] })
        .der,
      aliceDer,
    ],
  },
  {
    name: "a legacy Globus limited proxy (CN=limited proxy)",
    code: "legacy-proxy",
    chain: () => [makeProxy(alice, { cn: "limited proxy", extensions: [] }).der, aliceDer],
  },
  {
    name: "a pre-RFC draft proxy (GT3 ProxyCertInfo OID)",
    code: "legacy-proxy",
    chain: () => [
      makeProxy(alice, {
        extensions: [
          proxyCertInfoExt({ policyLanguage: OID.policyInheritAll, oid: OID.proxyCertInfoDraft }),
        ],
      }).der,
      aliceDer,
    ],
  },
  {
    name: "a limited proxy where limited proxies are not allowed",
    code: "limited-proxy",
    chain: () => pki.chainDer(pki.proxyOf(pki.user, { limited: true }).pem),
  },
  {
    name: "an independent proxy",
    code: "proxy-policy",
    chain: () => [
      makeProxy(alice, { extensions: proxyExtensions({ policyLanguage: OID.policyIndependent }) })
        .der,
      aliceDer,
    ],
  },
  {
    name: "a proxy issued directly by the CA",
    code: "bad-proxy",
    chain: () => [
      make({ issuer: ca, subject: `${TEST_CA_SUBJECT}/CN=1`, extensions: proxyExtensions() }).der,
    ],
  },
  {
    name: "a user certificate whose keyUsage lacks digitalSignature",
    code: "key-usage",
    chain: () => [
      user({ extensions: [basicConstraintsExt(false), keyUsageExt([KeyUsageBit.keyEncipherment])] })
        .der,
    ],
  },
  {
    name: "a user certificate whose extendedKeyUsage is serverAuth only",
    code: "key-usage",
    chain: () => [
      user({ extensions: [basicConstraintsExt(false), extKeyUsageExt([OID.ekuServerAuth])] }).der,
    ],
  },
  {
    name: "a proxy issued by a user certificate that may not sign",
    code: "key-usage",
    chain: () => {
      const u = user({ extensions: [keyUsageExt([KeyUsageBit.keyEncipherment])] });
      return [makeProxy(asIssuer(u)).der, u.der];
    },
  },
  {
    name: "a user certificate under an expired intermediate CA",
    code: "expired",
    chain: () => {
      const sub = make({
        issuer: ca,
        subject: "/DC=org/DC=example/CN=Old Sub CA",
        extensions: caExtensions(),
        notBefore: new Date(Date.now() - 48 * HOUR),
        notAfter: new Date(Date.now() - HOUR),
      });
      const leaf = make({
        issuer: asIssuer(sub),
        subject: "/DC=org/DC=example/CN=Eve",
        extensions: userExtensions(),
      });
      return [leaf.der, sub.der];
    },
  },
  {
    name: "a user certificate under an intermediate CA whose keyUsage lacks keyCertSign",
    code: "key-usage",
    chain: () => {
      const sub = make({
        issuer: ca,
        subject: "/DC=org/DC=example/CN=Odd Sub CA",
        extensions: [basicConstraintsExt(true), keyUsageExt([KeyUsageBit.cRLSign])],
      });
      const leaf = make({
        issuer: asIssuer(sub),
        subject: "/DC=org/DC=example/CN=Frank",
        extensions: userExtensions(),
      });
      return [leaf.der, sub.der];
    },
  },
  {
    name: "a certificate with a critical extension nobody understands",
    code: "critical-extension",
    chain: () => [
      user({
        extensions: [
          ...userExtensions(),
          { ...extKeyUsageExt([]), oid: "1.3.6.1.4.1.99999.1", critical: true },
        ],
      }).der,
    ],
  },
  {
    name: "a name outside the issuing CA's signing policy (/DC=org/DC=example/* only)",
    code: "namespace",
    chain: () => [user({ subject: "/DC=org/DC=elsewhere/CN=Alice" }).der],
  },
  ...(() => {
    let root: ReturnType<typeof make> | undefined;
    const rootCa = () =>
      (root ??= make({
        issuer: "self",
        subject: "/DC=org/DC=ns/CN=Root",
        extensions: caExtensions(),
      }));
    const leaf = (subject: string) => [
      make({ issuer: asIssuer(rootCa()), subject, extensions: userExtensions() }).der,
    ];
    const namespaces = (text: string) => () =>
      createTrustStore({
        cas: [{ data: rootCa().der, source: "root" }],
        policies: [{ kind: "namespaces", hash: hashOf(rootCa().der), data: text, source: "ns" }],
      });
    const nsText =
      'TO Issuer "/DC=org/DC=ns/CN=Root" \\\n  PERMIT Subject "/DC=org/DC=ns/.*"\n' +
      'TO Issuer "/DC=org/DC=ns/CN=Root" DENY Subject "/DC=org/DC=ns/CN=Banned.*"\n';
    return [
      {
        name: "a CA with neither a .signing_policy nor a .namespaces file",
        code: "namespace" as const,
        trust: () => createTrustStore({ cas: [{ data: rootCa().der, source: "root" }] }),
        chain: () => leaf("/DC=org/DC=ns/CN=Ivy"),
      },
      {
        name: "a name a .namespaces DENY entry matches, though a PERMIT also does",
        code: "namespace" as const,
        trust: namespaces(nsText),
        chain: () => leaf("/DC=org/DC=ns/CN=Banned Bob"),
      },
      {
        name: "a CA whose .namespaces file cannot be read safely (a group), whatever else it says",
        code: "namespace" as const,
        trust: namespaces(nsText + 'TO Issuer SELF PERMIT Subject "/DC=org/(a|b)/.*"\n'),
        chain: () => leaf("/DC=org/DC=ns/CN=Ivy"),
      },
    ];
  })(),
];

/** The test CA's own certificate and CRLs built with its key, for CRL cases. */
function caWithCrl(crl: { data: string | Buffer; source: string }): TrustStore {
  return createTrustStore({
    cas: [{ data: pki.ca.certPem, source: "ca" }],
    crls: [crl],
    caNamespaces: "off",
  });
}

function crlOfCa(nextUpdate: Date): Buffer {
  const info = parseCertificate(ca.der);
  return buildCrl(
    {
      issuerDer: info.subjectDer,
      issuerSpkiDer: info.x509.publicKey.export({ type: "spki", format: "der" }),
      revoked: [],
      crlNumber: 7,
      thisUpdate: new Date(nextUpdate.getTime() - 7 * 86_400_000),
      nextUpdate,
    },
    createPrivateKey(pki.ca.keyPem),
  );
}

cases.push(
  {
    name: "an RSA key of 1024 bits",
    code: "weak-key",
    chain: () => [user({ key: generateRsaKey(1024) }).der],
  },
  {
    name: "a certificate its CA signed with SHA-1 (made by openssl)",
    code: "weak-signature",
    chain: () => {
      const dir = pki.dir;
      const run = (args: string[]) => execFileSync("openssl", args, { stdio: "ignore" });
      run(["genrsa", "-out", join(dir, "sha1.key"), "2048"]);
      run([
        "req",
        "-new",
        "-key",
        join(dir, "sha1.key"),
        "-subj",
        "/DC=org/DC=example/CN=Sha",
        "-out",
        join(dir, "sha1.csr"),
      ]);
      run([
        "x509",
        "-req",
        "-sha1",
        "-in",
        join(dir, "sha1.csr"),
        "-days",
        "1",
        "-CA",
        join(pki.caHome, "ca.pem"),
        "-CAkey",
        join(pki.caHome, "ca-key.pem"),
        "-set_serial",
        "4242",
        "-out",
        join(dir, "sha1.pem"),
      ]);
      return pki.chainDer(readFileSync(join(dir, "sha1.pem"), "latin1"));
    },
  },
  {
    name: "a user of a CA whose CRL file does not parse",
    code: "crl-invalid",
    chain: () => [aliceDer],
    trust: () =>
      caWithCrl({
        data: "-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n",
        source: `/x/${hashOf(ca.der)}.r0`,
      }),
  },
  {
    name: "a user of a CA whose CRL is past its nextUpdate",
    code: "crl-expired",
    chain: () => [aliceDer],
    trust: () =>
      caWithCrl({ data: crlOfCa(new Date(Date.now() - 3_600_000)), source: "expired.r0" }),
  },
);

describe("verifyChain refuses", () => {
  for (const c of cases) {
    test(`${c.code}: ${c.name}`, () => {
      // The chain first: making it may change the trust directory (a revocation).
      const chain = c.chain();
      const trust = c.trust ? c.trust() : pki.trust();
      const r = verifyChain(chain, trust, { allowLimited: c.allowLimited });
      assert.equal(r.ok, false, `expected a refusal, got ${JSON.stringify(r)}`);
      if (!r.ok) {
        assert.equal(r.code, c.code, r.reason);
        assert.ok(r.reason.length > 10, "the reason says what is wrong");
      }
    });
  }

  test("the table covers every failure code", () => {
    const codes = VERIFY_FAILURE_CODES;
    assert.deepEqual(new Set(cases.map((c) => c.code)), new Set(codes));
  });
});
