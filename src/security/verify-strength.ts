/**
 * Key and signature strength in a chain. RSA keys below 2048 bits (and DSA keys, and EC keys on
 * curves under 256 bits) can be factored or forged within reach of a determined attacker; SHA-1
 * and MD5 signatures can be forged by chosen-prefix collisions (SHAttered, 2017). IGTF has
 * required 2048-bit keys and SHA-2 since 2016; OpenSSL's security level 2 refuses the same.
 * The trusted CA's own self-signature is not checked (it is trusted by being in the directory,
 * as OpenSSL does), but its key is: a weak CA key lets anyone mint certificates.
 */
import type { CertInfo } from "./cert-info.js";
import { fail, type VerifyFailure } from "./verify-result.js";

export const MIN_RSA_BITS = 2048;
const MIN_EC_BITS = 256;

/** Signature algorithms refused anywhere below the trust anchor. */
const WEAK_SIGNATURES: Record<string, string> = {
  "1.2.840.113549.1.1.4": "MD5 with RSA",
  "1.2.840.113549.1.1.5": "SHA-1 with RSA",
  "1.2.840.10045.4.1": "ECDSA with SHA-1",
  "1.2.840.10040.4.3": "DSA with SHA-1",
  "1.3.14.3.2.29": "SHA-1 with RSA (OIW)",
};

const EC_CURVE_BITS: Record<string, number> = {
  prime256v1: 256,
  secp256k1: 256,
  secp384r1: 384,
  secp521r1: 521,
};

/** Why `c`'s key is too weak, or undefined when it is strong enough. */
export function weakKeyReason(c: CertInfo): string | undefined {
  const key = c.x509.publicKey;
  const details = key.asymmetricKeyDetails ?? {};
  switch (key.asymmetricKeyType) {
    case "rsa":
    case "rsa-pss": {
      const bits = details.modulusLength ?? 0;
      return bits < MIN_RSA_BITS
        ? `an RSA key of ${bits} bits (at least ${MIN_RSA_BITS})`
        : undefined;
    }
    case "ec": {
      const bits = EC_CURVE_BITS[details.namedCurve ?? ""] ?? 0;
      return bits < MIN_EC_BITS ? `an EC key on curve ${details.namedCurve ?? "?"}` : undefined;
    }
    case "ed25519":
    case "ed448":
      return undefined;
    default:
      return `a ${key.asymmetricKeyType ?? "unknown"} key`;
  }
}

/** Every certificate's key (the anchor's included), and every signature below the anchor. */
export function checkStrength(path: CertInfo[], anchor: CertInfo): VerifyFailure | undefined {
  for (const c of [...path, anchor]) {
    const weak = weakKeyReason(c);
    if (weak) return fail("weak-key", `${c.subject} has ${weak}, which is refused`);
  }
  for (const c of path) {
    const alg = WEAK_SIGNATURES[c.signatureAlgorithm];
    if (alg) return fail("weak-signature", `${c.subject} is signed with ${alg}, which is refused`);
  }
  return undefined;
}
