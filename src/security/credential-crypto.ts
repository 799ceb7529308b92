/**
 * Credential handoff between frontend and factory: a proxy file's bytes encrypted for the
 * recipient's RSA key. A random AES-256-GCM key encrypts the data and RSA-OAEP (SHA-256) wraps
 * that key. The text form is versioned and names the recipient key:
 *
 *   updraft-cred:v1:<PubKeyID>:<base64 of wrapped key | iv | tag | ciphertext>
 *
 * The header is authenticated data, so changing any part fails decryption.
 */
import {
  constants,
  createCipheriv,
  createDecipheriv,
  createHash,
  createPrivateKey,
  createPublicKey,
  privateDecrypt,
  publicEncrypt,
  randomBytes,
  type KeyObject,
} from "node:crypto";
import { UpdraftError } from "../common/errors.js";

const PREFIX = "updraft-cred";
const VERSION = "v1";
const IV_BYTES = 12;
const TAG_BYTES = 16;

export type CredentialCryptoErrorCode =
  "bad-format" | "unsupported-version" | "wrong-key" | "tampered";

export class CredentialCryptoError extends UpdraftError {
  override name = "CredentialCryptoError";
  constructor(
    readonly code: CredentialCryptoErrorCode,
    message: string,
  ) {
    super(message);
  }
}

type PublicKeyInput = string | Buffer | KeyObject;
type PrivateKeyInput = string | Buffer | KeyObject;

function publicKeyOf(key: PublicKeyInput): KeyObject {
  if (typeof key === "object" && "type" in key && !Buffer.isBuffer(key)) {
    return key.type === "private" ? createPublicKey(key) : key;
  }
  // Accepts a public key, a certificate or a private key in PEM.
  return createPublicKey(key);
}

function privateKeyOf(key: PrivateKeyInput): KeyObject {
  if (typeof key === "object" && "type" in key && !Buffer.isBuffer(key)) return key;
  return createPrivateKey(key);
}

/** PubKeyID: the first 16 hex digits of SHA-256 over the key's SubjectPublicKeyInfo DER. */
export function pubKeyId(key: PublicKeyInput): string {
  const spki = publicKeyOf(key).export({ type: "spki", format: "der" });
  return createHash("sha256").update(spki).digest("hex").slice(0, 16);
}

export function encryptCredential(data: Buffer | string, recipient: PublicKeyInput): string {
  const pub = publicKeyOf(recipient);
  if (pub.asymmetricKeyType !== "rsa") {
    throw new CredentialCryptoError(
      "wrong-key",
      `credentials are encrypted for RSA keys, not ${pub.asymmetricKeyType}`,
    );
  }
  const header = `${PREFIX}:${VERSION}:${pubKeyId(pub)}`;
  const aesKey = randomBytes(32);
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv("aes-256-gcm", aesKey, iv);
  cipher.setAAD(Buffer.from(header));
  const ct = Buffer.concat([
    cipher.update(typeof data === "string" ? Buffer.from(data) : data),
    cipher.final(),
  ]);
  const wrapped = publicEncrypt(
    { key: pub, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: "sha256" },
    aesKey,
  );
  const len = Buffer.alloc(2);
  len.writeUInt16BE(wrapped.length);
  const body = Buffer.concat([len, wrapped, iv, cipher.getAuthTag(), ct]);
  return `${header}:${body.toString("base64")}`;
}

export function decryptCredential(text: string, key: PrivateKeyInput): Buffer {
  const parts = text.trim().split(":");
  if (parts.length !== 4 || parts[0] !== PREFIX) {
    throw new CredentialCryptoError(
      "bad-format",
      `not an encrypted credential (expected "${PREFIX}:${VERSION}:<key id>:<data>")`,
    );
  }
  const [, version, keyId, b64] = parts;
  if (version !== VERSION) {
    throw new CredentialCryptoError(
      "unsupported-version",
      `encrypted credential version "${version}" is not supported (this build reads ${VERSION})`,
    );
  }
  const priv = privateKeyOf(key);
  const mine = pubKeyId(priv);
  if (keyId !== mine) {
    throw new CredentialCryptoError(
      "wrong-key",
      `the credential was encrypted for key ${keyId}, but this key is ${mine}`,
    );
  }
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64)) {
    throw new CredentialCryptoError("bad-format", "the encrypted credential's data is not base64");
  }
  const body = Buffer.from(b64, "base64");
  const wrappedLen = body.length >= 2 ? body.readUInt16BE(0) : 0;
  const fixed = 2 + wrappedLen + IV_BYTES + TAG_BYTES;
  if (wrappedLen === 0 || body.length < fixed) {
    throw new CredentialCryptoError("bad-format", "the encrypted credential is truncated");
  }
  let aesKey: Buffer;
  try {
    aesKey = privateDecrypt(
      { key: priv, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: "sha256" },
      body.subarray(2, 2 + wrappedLen),
    );
  } catch {
    throw new CredentialCryptoError(
      "tampered",
      "the encrypted credential's key could not be unwrapped: it was altered or not made for this key",
    );
  }
  if (aesKey.length !== 32)
    throw new CredentialCryptoError("tampered", "the unwrapped data key has the wrong size");
  const ivStart = 2 + wrappedLen;
  const decipher = createDecipheriv(
    "aes-256-gcm",
    aesKey,
    body.subarray(ivStart, ivStart + IV_BYTES),
  );
  decipher.setAAD(Buffer.from(`${PREFIX}:${version}:${keyId}`));
  decipher.setAuthTag(body.subarray(ivStart + IV_BYTES, fixed));
  try {
    return Buffer.concat([decipher.update(body.subarray(fixed)), decipher.final()]);
  } catch {
    throw new CredentialCryptoError(
      "tampered",
      "the encrypted credential failed its integrity check: it was altered",
    );
  }
}
