/**
 * What a bearer token says about itself, its signature unchecked: for `updraft token info`, and
 * for clients and pilots that read their own token's expiry. Apart from the issuer, and through
 * jose's two decoders alone, so reading a token does not load signing, keys and a CA directory.
 */
import { decodeJwt } from "jose/jwt/decode";
import { decodeProtectedHeader } from "jose/decode/protected_header";

export type TokenDescription =
  | { ok: true; header: Record<string, unknown>; claims: Record<string, unknown>; expired: boolean }
  | { ok: false; reason: string };

/** Header and claims as the token states them; the signature is not checked. */
export function describeToken(token: string, now = Date.now()): TokenDescription {
  try {
    const header = decodeProtectedHeader(token) as Record<string, unknown>;
    const claims = decodeJwt(token) as Record<string, unknown>;
    const exp = typeof claims.exp === "number" ? claims.exp : undefined;
    return { ok: true, header, claims, expired: exp !== undefined && exp * 1000 <= now };
  } catch {
    return { ok: false, reason: "not a JWT (three base64url parts with JSON header and claims)" };
  }
}
