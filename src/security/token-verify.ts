/**
 * Bearer-token verification: WLCG Common JWT Profile 1.0 and SciTokens 2.0 access tokens, signed
 * ES256 or RS256 by a configured issuer, for an audience naming this daemon. The JOSE work is
 * `jose`'s; this file decides which checks apply and names the one that failed. Verdicts are
 * cached by a hash of the token, so a repeated token (good or bad) costs a lookup. Refusal
 * reasons never contain the token.
 */
import { createHash } from "node:crypto";
import { decodeJwt, decodeProtectedHeader, jwtVerify, type JWTPayload } from "jose";
import { grantsScope } from "./authz.js";
import type { TokenRefusalCode } from "./token-refusal.js";
import type { IssuerKeySource } from "./token-keys.js";
import { createVerifyCache, type VerifyCache } from "./verify-cache.js";

/** The audience the WLCG profile reserves for "any relying party". */
export const WLCG_ANY_AUDIENCE = "https://wlcg.cern.ch/jwt/v1/any";
export const TOKEN_ALGORITHMS = ["ES256", "RS256"] as const;
export const DEFAULT_MAX_TOKEN_BYTES = 8192;
export const DEFAULT_LEEWAY_S = 60;

export { TOKEN_REFUSAL_CODES, type TokenRefusalCode } from "./token-refusal.js";

export interface TokenClaims {
  iss: string;
  sub: string;
  /** `<iss>#<sub>`: the identity authorization rules and logs see. */
  identity: string;
  aud: string[];
  scopes: string[];
  groups: string[];
  /** Seconds since the epoch. */
  exp: number;
  /** When this verifier stops accepting the token (`exp` plus the leeway), ms since the epoch. */
  acceptedUntilMs: number;
  profile: "wlcg" | "scitokens";
  payload: JWTPayload;
}

export type TokenVerdict =
  { ok: true; claims: TokenClaims } | { ok: false; code: TokenRefusalCode; reason: string };

export interface TokenVerifierOptions {
  /** Trusted issuers, each with its key source, keyed by the exact `iss` string. */
  issuers: readonly IssuerKeySource[];
  /** Audiences that name this daemon (its URLs and any configured names). */
  audiences: readonly string[];
  /** Accept the WLCG "any" audience as well. */
  acceptAnyAudience?: boolean;
  leewayS?: number;
  maxTokenBytes?: number;
  cacheEntries?: number;
  now?: () => number;
}

export interface TokenVerifier {
  verify(token: string): Promise<TokenVerdict>;
  readonly cache: VerifyCache;
}

export function createTokenVerifier(opts: TokenVerifierOptions): TokenVerifier {
  const now = opts.now ?? Date.now;
  const leewayS = opts.leewayS ?? DEFAULT_LEEWAY_S;
  const maxBytes = opts.maxTokenBytes ?? DEFAULT_MAX_TOKEN_BYTES;
  const issuers = new Map(opts.issuers.map((s) => [s.issuer, s]));
  const audiences = new Set(opts.audiences);
  if (opts.acceptAnyAudience) audiences.add(WLCG_ANY_AUDIENCE);
  const cache = createVerifyCache(opts.cacheEntries);

  async function check(
    token: string,
    t: number,
  ): Promise<{ v: TokenVerdict; until: number; from: number }> {
    const forever = { from: -Infinity, until: Infinity };
    const refuse = (code: TokenRefusalCode, reason: string, w = forever) => ({
      v: { ok: false as const, code, reason },
      ...w,
    });
    let header: ReturnType<typeof decodeProtectedHeader>;
    let unverified: JWTPayload;
    try {
      header = decodeProtectedHeader(token);
      unverified = decodeJwt(token);
    } catch {
      return refuse(
        "malformed",
        "not a signed JWT (three base64url parts with JSON header and claims)",
      );
    }
    if (token.split(".").length !== 3) return refuse("malformed", "not a compact JWS");
    const alg = header.alg;
    if (typeof alg !== "string" || !(TOKEN_ALGORITHMS as readonly string[]).includes(alg)) {
      return refuse(
        "algorithm",
        `algorithm ${describe(alg)} is not accepted (ES256 or RS256 only)`,
      );
    }
    const iss = unverified.iss;
    const source = typeof iss === "string" ? issuers.get(iss) : undefined;
    if (!source) return refuse("issuer", `issuer ${describe(iss)} is not trusted`);
    const key = await source.keyFor(header);
    if (!key.ok) {
      // An unknown kid may become known after the issuer rotates: hold that verdict briefly.
      const w = key.code === "unknown-key" ? { from: -Infinity, until: t + 60_000 } : forever;
      return refuse(key.code, key.reason, w);
    }
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, key.key, {
        algorithms: [...TOKEN_ALGORITHMS],
        issuer: source.issuer,
        clockTolerance: leewayS,
        currentDate: new Date(t),
      }));
    } catch (e) {
      const err = e as { code?: string; claim?: string };
      if (err.code === "ERR_JWS_SIGNATURE_VERIFICATION_FAILED") {
        return refuse("signature", "the signature was not made by the issuer's key");
      }
      if (err.code === "ERR_JWT_EXPIRED") {
        return refuse("expired", "the token has expired", { from: t, until: Infinity });
      }
      if (err.code === "ERR_JWT_CLAIM_VALIDATION_FAILED" && err.claim === "nbf") {
        const nbf = typeof unverified.nbf === "number" ? unverified.nbf : 0;
        return refuse("not-yet-valid", "the token is not valid yet (nbf)", {
          from: -Infinity,
          until: (nbf - leewayS) * 1000,
        });
      }
      if (err.code === "ERR_JOSE_ALG_NOT_ALLOWED") {
        return refuse("algorithm", "the algorithm is not accepted (ES256 or RS256 only)");
      }
      return refuse("malformed", "the token's claims are malformed");
    }
    const profile = checkProfile(payload);
    if (typeof profile !== "string") return refuse("malformed", profile.reason);
    // jose looks at iat only with a maximum token age, which the profiles do not set.
    const iat = payload.iat as number;
    if (iat - leewayS > t / 1000) {
      return refuse("not-yet-valid", "the token was issued in the future (iat)", {
        from: -Infinity,
        until: (iat - leewayS) * 1000,
      });
    }
    const aud = typeof payload.aud === "string" ? [payload.aud] : (payload.aud ?? []);
    if (!aud.some((a) => audiences.has(a))) {
      return refuse(
        "audience",
        `the token's audience does not name this service (${aud.slice(0, 4).map(describe).join(", ")})`,
      );
    }
    const exp = payload.exp as number;
    const sub = payload.sub as string;
    const claims: TokenClaims = {
      iss: source.issuer,
      sub,
      identity: `${source.issuer}#${sub}`,
      aud,
      scopes: typeof payload.scope === "string" ? payload.scope.split(" ").filter(Boolean) : [],
      groups: readGroups(payload),
      exp,
      acceptedUntilMs: (exp + leewayS) * 1000,
      profile,
      payload,
    };
    const nbf = typeof payload.nbf === "number" ? payload.nbf : -Infinity;
    return { v: { ok: true, claims }, from: (nbf - leewayS) * 1000, until: (exp + leewayS) * 1000 };
  }

  return {
    cache,
    async verify(token) {
      if (token.length > maxBytes) {
        return { ok: false, code: "size", reason: `the token is longer than ${maxBytes} bytes` };
      }
      const t = now();
      const key = createHash("sha256").update(token).digest("hex");
      const hit = cache.get(key, new Date(t)) as TokenVerdict | undefined;
      if (hit) return hit;
      const { v, from, until } = await check(token, t);
      cache.set(key, { verdict: v, validFrom: from, validUntil: until });
      return v;
    },
  };
}

/** The claims both profiles require; `sub`, `exp` and `iat` always, and a version marker. */
function checkProfile(p: JWTPayload): TokenClaims["profile"] | { reason: string } {
  if (typeof p.sub !== "string" || p.sub.length === 0 || p.sub.length > 256) {
    return { reason: "the token has no usable sub" };
  }
  if (typeof p.exp !== "number") return { reason: "the token has no exp" };
  if (typeof p.iat !== "number") return { reason: "the token has no iat" };
  if (p["wlcg.ver"] === "1.0") return "wlcg";
  if (p.ver === "scitoken:2.0") return "scitokens";
  return {
    reason: 'the token is neither WLCG (wlcg.ver "1.0") nor SciTokens 2.0 (ver "scitoken:2.0")',
  };
}

function readGroups(p: JWTPayload): string[] {
  const g = p["wlcg.groups"];
  if (!Array.isArray(g)) return [];
  return g.filter((x): x is string => typeof x === "string");
}

/** A short, quoted rendering of an attacker-controlled value for a refusal reason. */
function describe(v: unknown): string {
  if (typeof v !== "string") return v === undefined ? "(none)" : "(not a string)";
  return JSON.stringify(v.slice(0, 80));
}

/** True when the token grants `want` (`compute.read`), or a scope with a path under it. */
export function hasScope(claims: Pick<TokenClaims, "scopes">, want: string): boolean {
  return grantsScope(claims.scopes, want);
}
