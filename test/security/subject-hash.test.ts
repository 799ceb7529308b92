/**
 * OpenSSL's subject hash (trust directory file names) and the slash form of DNs, checked against
 * the openssl command itself, including names that differ only in case, spacing and string type.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { after, before, test } from "node:test";
import fc from "fast-check";
import forge from "node-forge";
import { derToPem } from "../../src/security/cert-info.js";
import { encodeSlashDn } from "../../src/security/dn-encode.js";
import { formatSlashDn, namesEqual, parseSlashDn, subjectHash } from "../../src/security/dn.js";
import { createTestPki, type TestPki } from "../helpers/pki.js";
import { FAST_BITS, make } from "./fixtures/bad-certs.js";
import { requireTool } from "./tools.js";

const asn1 = forge.asn1;

let pki: TestPki;
before(() => {
  requireTool("openssl");
  pki = createTestPki({ bits: FAST_BITS });
});
after(() => pki.cleanup());

function openssl(der: Buffer, ...args: string[]): string {
  const r = spawnSync("openssl", ["x509", "-noout", ...args], {
    input: derToPem(der),
    encoding: "utf8",
  });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim();
}

/** A Name with explicit string tags, to exercise canonicalisation of every string type. */
function rawName(rdns: [string, number, string][]): Buffer {
  const seq = asn1.create(
    asn1.Class.UNIVERSAL,
    asn1.Type.SEQUENCE,
    true,
    rdns.map(([oid, tag, value]) =>
      asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SET, true, [
        asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
          asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OID, false, asn1.oidToDer(oid).getBytes()),
          asn1.create(
            asn1.Class.UNIVERSAL,
            tag,
            false,
            tag === asn1.Type.UTF8 ? forge.util.encodeUtf8(value) : value,
          ),
        ]),
      ]),
    ),
  );
  return Buffer.from(asn1.toDer(seq).getBytes(), "binary");
}

/** TeletexString: not in the type definitions, but forge encodes any tag. */
const T61 = 0x14 as unknown as forge.asn1.Type;
const CN = "2.5.4.3";
const DC = "0.9.2342.19200300.100.1.25";
const O = "2.5.4.10";

test("the trust directory file is named by openssl's subject hash", () => {
  const der = pki.chainDer(pki.ca.certPem)[0];
  const hash = openssl(der, "-subject_hash");
  assert.ok(readdirSync(pki.caDir).includes(`${hash}.0`));
  assert.ok(readdirSync(pki.caDir).includes(`${hash}.r0`));
  assert.ok(readdirSync(pki.caDir).includes(`${hash}.signing_policy`));
});

test("hash and slash form match openssl for names with mixed case, spaces and string types", () => {
  const names: Buffer[] = [
    encodeSlashDn("/DC=org/DC=example/CN=Alice"),
    encodeSlashDn("/C=DE/O=GermanGrid/OU=DESY/CN=host/ce01.example.org"),
    encodeSlashDn("/DC=ch/DC=cern/OU=Organic Units/OU=Users/CN=jdoe/CN=123456/CN=John Doe"),
    rawName([
      [DC, asn1.Type.IA5STRING, "ORG"],
      [O, asn1.Type.PRINTABLESTRING, "  Example   Grid  "],
      [CN, asn1.Type.UTF8, "Zoë\tMüller"],
    ]),
    rawName([
      [O, T61, "T61 Name"],
      [CN, asn1.Type.BMPSTRING, "\x00B\x00M\x00P"],
    ]),
    encodeSlashDn("/DC=org/DC=example/CN=Alice/emailAddress=alice@example.org/UID=alice"),
  ];
  for (const name of names) {
    const cert = make({ issuer: "self", subjectDer: name });
    assert.equal(subjectHash(name), openssl(cert.der, "-subject_hash"));
    // OpenSSL prints BMPString values widened to four bytes a character; grid DNs avoid them.
    if (formatSlashDn(name).includes("\\x00")) continue;
    assert.equal(
      `subject=${formatSlashDn(name)}`,
      openssl(cert.der, "-subject", "-nameopt", "compat"),
    );
  }
});

test("names that differ only in case and white space hash alike and compare equal", () => {
  const a = rawName([[O, asn1.Type.PRINTABLESTRING, "Example Grid"]]);
  const b = rawName([[O, asn1.Type.UTF8, "  EXAMPLE    grid "]]);
  assert.equal(subjectHash(a), subjectHash(b));
  assert.ok(namesEqual(a, b));
});

test("property: hash matches openssl for random printable names", () => {
  const value = fc
    .stringMatching(/^[A-Za-z0-9 '()+,.:=?-]{1,20}$/)
    .filter((s) => s.trim() !== "" && !s.includes("/"));
  fc.assert(
    fc.property(fc.array(value, { minLength: 1, maxLength: 4 }), (values) => {
      const name = rawName(values.map((v, i) => [i % 2 ? CN : O, asn1.Type.PRINTABLESTRING, v]));
      const cert = make({ issuer: "self", subjectDer: name });
      return subjectHash(name) === openssl(cert.der, "-subject_hash");
    }),
    { numRuns: 40 },
  );
});

test("property: slash form parses and formats back unchanged", () => {
  const value = fc
    .stringMatching(/^[A-Za-z0-9 .@_-]{1,16}$/)
    .filter((s) => s.trim() === s && s !== "");
  const attr = fc.tuple(fc.constantFrom("DC", "O", "OU", "CN", "C", "L"), value);
  fc.assert(
    fc.property(fc.array(attr, { minLength: 1, maxLength: 6 }), (attrs) => {
      const dn = attrs.map(([k, v]) => `/${k}=${v}`).join("");
      return formatSlashDn(encodeSlashDn(dn)) === dn && parseSlashDn(dn).length === attrs.length;
    }),
  );
});

test("a slash inside a value stays part of the value, escaped as openssl prints it", () => {
  const bare = "/DC=org/DC=example/CN=host/ce.example.org";
  const escaped = "/DC=org/DC=example/CN=host\\/ce.example.org";
  assert.deepEqual(parseSlashDn(bare), parseSlashDn(escaped));
  assert.equal(parseSlashDn(bare).length, 3);
  const der = encodeSlashDn(bare);
  assert.equal(formatSlashDn(der), escaped);
  assert.equal(
    `subject=${escaped}`,
    openssl(make({ issuer: "self", subjectDer: der }).der, "-subject", "-nameopt", "compat"),
  );
});
