/** Credential handoff: hybrid RSA-OAEP/AES-GCM encryption of a proxy for a factory's key. */
import assert from "node:assert/strict";
import { createHash, generateKeyPairSync } from "node:crypto";
import { before, test } from "node:test";
import fc from "fast-check";
import {
  CredentialCryptoError,
  decryptCredential,
  encryptCredential,
  pubKeyId,
} from "../../src/security/credential-crypto.js";

let factory: { publicKey: string; privateKey: string };
let other: { publicKey: string; privateKey: string };
const proxy = Buffer.from("-----BEGIN CERTIFICATE-----\nMIIB...\n-----END CERTIFICATE-----\n");

const keys = () =>
  generateKeyPairSync("rsa", {
    modulusLength: 2048,
    publicKeyEncoding: { type: "spki", format: "pem" },
    privateKeyEncoding: { type: "pkcs8", format: "pem" },
  });

before(() => {
  factory = keys();
  other = keys();
});

const codeOf = (f: () => unknown) => {
  try {
    f();
  } catch (err) {
    assert.ok(err instanceof CredentialCryptoError, String(err));
    return { code: err.code, message: err.message };
  }
  assert.fail("expected a CredentialCryptoError");
};

test("a credential round-trips and its text is versioned and names the key", () => {
  const text = encryptCredential(proxy, factory.publicKey);
  assert.match(text, /^updraft-cred:v1:[0-9a-f]{16}:[A-Za-z0-9+/=]+$/);
  assert.equal(text.split(":")[2], pubKeyId(factory.publicKey));
  assert.deepEqual(decryptCredential(text, factory.privateKey), proxy);
  assert.notEqual(encryptCredential(proxy, factory.publicKey), text, "fresh key and IV every time");
});

test("PubKeyID is the first 16 hex digits of SHA-256 over the SPKI DER, same from either half", () => {
  const der = Buffer.from(factory.publicKey.replace(/-----[^-]+-----|\s/g, ""), "base64");
  assert.equal(
    pubKeyId(factory.publicKey),
    createHash("sha256").update(der).digest("hex").slice(0, 16),
  );
  assert.equal(pubKeyId(factory.privateKey), pubKeyId(factory.publicKey));
});

test("the wrong private key is told apart from tampering", () => {
  const text = encryptCredential(proxy, factory.publicKey);
  const e = codeOf(() => decryptCredential(text, other.privateKey));
  assert.equal(e.code, "wrong-key");
  assert.match(e.message, /encrypted for key [0-9a-f]{16}, but this key is [0-9a-f]{16}/);
});

test("changing any byte of the encrypted data is detected", () => {
  const text = encryptCredential(proxy, factory.publicKey);
  const [p, v, id, b64] = text.split(":");
  const body = Buffer.from(b64, "base64");
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: body.length - 1 }),
      fc.integer({ min: 1, max: 255 }),
      (i, x) => {
        const bad = Buffer.from(body);
        bad[i] ^= x;
        const e = codeOf(() =>
          decryptCredential(`${p}:${v}:${id}:${bad.toString("base64")}`, factory.privateKey),
        );
        return e.code === "tampered" || e.code === "bad-format";
      },
    ),
    { numRuns: 60 },
  );
});

test("format problems are reported plainly", () => {
  assert.equal(codeOf(() => decryptCredential("hello", factory.privateKey)).code, "bad-format");
  const text = encryptCredential(proxy, factory.publicKey);
  assert.equal(
    codeOf(() => decryptCredential(text.replace(":v1:", ":v9:"), factory.privateKey)).code,
    "unsupported-version",
  );
  const truncated = text.slice(0, text.lastIndexOf(":") + 20);
  assert.equal(codeOf(() => decryptCredential(truncated, factory.privateKey)).code, "bad-format");
});
