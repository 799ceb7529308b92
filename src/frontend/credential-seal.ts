/**
 * Encryption of the pilot credential (and the frontend's identity) to each factory's key, kept
 * from cycle to cycle while neither the credential nor the key changes. The ciphertext is
 * randomised (RSA-OAEP and a fresh AES key), so encrypting anew every cycle would hand the
 * factory a different text each time and defeat its cache of decrypted credentials; a renewed
 * proxy or a new factory key gives a new text at once.
 */
import { createHash } from "node:crypto";
import { CycleCache } from "../common/cycle-cache.js";
import { encryptCredential } from "../security/credential-crypto.js";

export interface CredentialSealer {
  /** `plain` encrypted to the PEM public key, the same text as last time for the same pair. */
  seal(plain: Buffer | string, publicKeyPem: string): string;
  /** Drop what the cycle that just ended did not use, so the cache follows the config. */
  endCycle(): void;
}

const digest = (b: Buffer | string) => createHash("sha256").update(b).digest("hex");

export function createCredentialSealer(
  encrypt: (plain: Buffer | string, publicKeyPem: string) => string = encryptCredential,
): CredentialSealer {
  const texts = new CycleCache<string>();
  return {
    seal(plain, publicKeyPem) {
      const key = `${digest(plain)}:${digest(publicKeyPem)}`;
      let text = texts.get(key);
      if (text === undefined) {
        text = encrypt(plain, publicKeyPem);
        texts.set(key, text);
      }
      return text;
    },
    endCycle: () => texts.endCycle(),
  };
}
