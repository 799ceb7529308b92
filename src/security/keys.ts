/** RSA and EC keys and serial numbers. Keys come from node:crypto (native, fast), as PEM text. */
import {
  createPrivateKey,
  createPublicKey,
  generateKeyPair,
  generateKeyPairSync,
  randomBytes,
} from "node:crypto";
import type { KeyObject } from "node:crypto";
import { promisify } from "node:util";
import { UpdraftError } from "../common/errors.js";

export interface KeyPair {
  /**
   * PKCS#1 ("RSA PRIVATE KEY"), the form grid tools write into proxy files; SEC 1 ("EC PRIVATE
   * KEY") for an EC key.
   */
  privateKeyPem: string;
  /** SubjectPublicKeyInfo DER. */
  spkiDer: Buffer;
}

export const DEFAULT_BITS = 2048;

export function generateRsaKey(bits = DEFAULT_BITS): KeyPair {
  if (!Number.isInteger(bits) || bits < 1024 || bits > 16384) {
    throw new RangeError(`RSA key size ${bits} is outside 1024..16384 bits`);
  }
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: bits });
  return {
    privateKeyPem: privateKey.export({ type: "pkcs1", format: "pem" }).toString(),
    spkiDer: publicKey.export({ type: "spki", format: "der" }),
  };
}

const generateKeyPairAsync = promisify(generateKeyPair);

/**
 * A P-256 key pair, made on libuv's thread pool, never on the event loop. An EC key costs about a
 * thousandth of an RSA 2048 key (0.07 ms against 200 ms of CPU here), which is what makes a key
 * per pilot affordable; it is as strong as RSA 3072.
 */
export async function generateEcKey(): Promise<KeyPair> {
  const { privateKey, publicKey } = await generateKeyPairAsync("ec", { namedCurve: "prime256v1" });
  return {
    privateKeyPem: privateKey.export({ type: "sec1", format: "pem" }).toString(),
    spkiDer: publicKey.export({ type: "spki", format: "der" }),
  };
}

/** A private key that cannot be used: encrypted, or not a PEM key at all. */
export class PrivateKeyError extends UpdraftError {
  readonly code = "key-invalid";
  override name = "PrivateKeyError";
}

/** Load an unencrypted private key from PEM; the error names what was wrong, never the key. */
export function loadPrivateKey(pem: string): KeyObject {
  if (/ENCRYPTED/.test(pem)) {
    throw new PrivateKeyError(
      "the private key is encrypted with a pass phrase, which is not supported",
    );
  }
  try {
    return createPrivateKey(pem);
  } catch {
    throw new PrivateKeyError(
      "the private key could not be read (expected an unencrypted PEM RSA key)",
    );
  }
}

export function spkiOf(key: KeyObject): Buffer {
  return createPublicKey(key).export({ type: "spki", format: "der" });
}

/** A random positive serial of `bytes` bytes (leading bit clear so the INTEGER stays positive). */
export function randomSerial(bytes = 16): Buffer {
  const b = randomBytes(bytes);
  b[0] = (b[0] & 0x7f) | 0x01;
  return b;
}
