/**
 * A running pilot's token, renewed before it expires through the mechanism credential-renewal.ts
 * describes: the frontend seals the renewed token to the pilot's key in its PilotCredential ad. A
 * renewed token must name the same issuer, `sub` and binding and end later than the one held; its
 * signature is the collector's and schedds' to check, as for the first token (the pilot holds no
 * issuer keys).
 */
import { isDeepStrictEqual } from "node:util";
import { decodeJwt } from "jose/jwt/decode";
import { PILOT_CREDENTIAL } from "../ads/index.js";
import { decryptCredential } from "../security/credential-crypto.js";
import { PILOT_BINDING_CLAIM } from "../security/pilot-binding.js";
import {
  createCredentialRenewer,
  MAX_RENEWAL_SCHEDDS,
  renewalSchedds,
  type CredentialRenewer,
  type HeldCredential,
  type RenewalKind,
  type RenewerOptions,
} from "./credential-renewal.js";

/** Longest sealed token read from a PilotCredential ad (a token is at most a few kB). */
const MAX_SEALED_CHARS = 64 * 1024;

export interface TokenFacts {
  iss: string;
  sub: string;
  /** Seconds since the epoch. */
  iat: number;
  exp: number;
  /** The `updraft.pilot` claim as the token states it. */
  binding: unknown;
  /** The binding's `renew_until`, when the token may be renewed. */
  renewUntil?: number;
  /** The token's audiences. */
  aud: string[];
}

/** What a token states, unverified; undefined when it is not a token with iss, sub and exp. */
export function tokenFacts(token: string): TokenFacts | undefined {
  let c: Record<string, unknown>;
  try {
    c = decodeJwt(token) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  const { iss, sub, exp } = c;
  if (typeof iss !== "string" || typeof sub !== "string" || typeof exp !== "number") {
    return undefined;
  }
  const iat = typeof c.iat === "number" ? c.iat : exp;
  const binding = c[PILOT_BINDING_CLAIM];
  const ru = (binding as { renew_until?: unknown } | undefined)?.renew_until;
  const aud = typeof c.aud === "string" ? [c.aud] : Array.isArray(c.aud) ? c.aud : [];
  return {
    iss,
    sub,
    iat,
    exp,
    binding,
    aud: aud.filter((a): a is string => typeof a === "string"),
    ...(typeof ru === "number" && ru > exp ? { renewUntil: ru } : {}),
  };
}

/**
 * Whether `next` may replace `held`: same issuer, `sub` and binding, a later `exp` that is still
 * ahead, issued no later than now (with a minute of clock skew). Why not, otherwise.
 */
export function acceptRenewal(held: TokenFacts, next: string, nowS: number): string | undefined {
  const n = tokenFacts(next);
  if (!n) return "not a token";
  if (n.iss !== held.iss) return "another issuer";
  if (n.sub !== held.sub) return "another sub";
  if (!isDeepStrictEqual(n.binding, held.binding)) return "another binding";
  if (n.exp <= held.exp) return "no later than the token held";
  if (n.exp <= nowS) return "expired";
  if (n.iat > nowS + 60) return "issued in the future";
  return undefined;
}

/** A token's renewer (see credential-renewal.ts). */
export type TokenRenewer = CredentialRenewer;
export type TokenRenewerOptions = RenewerOptions;
export { MAX_RENEWAL_SCHEDDS, renewalSchedds };

type HeldToken = HeldCredential & { facts: TokenFacts };

const tokenKind: RenewalKind<HeldToken> = {
  what: "token",
  open(ad, key) {
    const sealed = ad[PILOT_CREDENTIAL.SealedToken];
    if (sealed === undefined || sealed.length > MAX_SEALED_CHARS) return undefined;
    return decryptCredential(JSON.parse(sealed) as string, key.privateKey)
      .toString("latin1")
      .trim();
  },
  accept(held, next, _key, nowS) {
    const refused = acceptRenewal(held.facts, next, nowS);
    if (refused !== undefined) return { refused };
    return { held: heldToken(tokenFacts(next)!)!, text: next };
  },
};

function heldToken(facts: TokenFacts): HeldToken | undefined {
  if (facts.renewUntil === undefined) return undefined;
  return {
    name: facts.sub,
    start: facts.iat,
    exp: facts.exp,
    renewUntil: facts.renewUntil,
    aud: facts.aud,
    facts,
  };
}

/** A renewer for a token that carries `renew_until`; undefined for any other credential. */
export function createTokenRenewer(
  token: string,
  opts: TokenRenewerOptions,
): TokenRenewer | undefined {
  const facts = tokenFacts(token);
  const held = facts && heldToken(facts);
  return held && createCredentialRenewer(tokenKind, held, token, opts);
}
