/**
 * How a refused bearer token is named to its holder (RFC 6750 section 3): the listener answers
 * `WWW-Authenticate: Bearer error="invalid_token", error_description="<check>"` (401), or
 * `error="insufficient_scope"` (403) with `scope="..."` when a scope would have given a role, and
 * the client turns that into what failed and what to do next. `<check>` is one word of a closed
 * list, never the token nor a claim: each check compares the token with facts anyone can read
 * (the issuer's published keys, the service's URL, the clock, the size limit), so naming it
 * tells the holder nothing its own token does not. No JOSE here: clients and pilots load this.
 */

/** The verifier's checks (token-verify.ts), each a refusal code. */
export const TOKEN_REFUSAL_CODES = [
  "expired",
  "not-yet-valid",
  "audience",
  "issuer",
  "signature",
  "unknown-key",
  "algorithm",
  "scope",
  "size",
  "malformed",
] as const;
export type TokenRefusalCode = (typeof TOKEN_REFUSAL_CODES)[number];

/** The verifier's checks, and those the listener adds (roles, revoked pilots, no tokens taken). */
export const TOKEN_CHECKS = [
  ...TOKEN_REFUSAL_CODES,
  "role",
  "revoked",
  "unsupported",
  "unverifiable",
] as const;
export type TokenCheck = (typeof TOKEN_CHECKS)[number];

export type BearerError = "invalid_token" | "insufficient_scope";

export interface BearerChallenge {
  error: BearerError;
  check: TokenCheck;
  /** The scopes any one of which would have given a role (insufficient_scope only). */
  scopes?: readonly string[];
}

/** What failed, in words for the holder. */
const FAILED: Record<TokenCheck, string> = {
  expired: "the token has expired",
  "not-yet-valid": "the token is not valid yet",
  audience: "its audience does not name this service",
  issuer: "its issuer is not one this service trusts",
  signature: "its signature does not verify with its issuer's key",
  "unknown-key": "its issuer publishes no key with the token's kid",
  algorithm: "it is signed with an algorithm this service does not take (ES256 or RS256 only)",
  scope: "it lacks the scope this service requires",
  size: "it is longer than this service accepts",
  malformed: "it is not a well-formed WLCG or SciTokens token",
  role: "its holder has no role at this service",
  revoked: "the pilot it was made for is revoked",
  unsupported: "this service takes no bearer tokens",
  unverifiable: "the service could not check it",
};

/** What to do next. */
const NEXT: Record<TokenCheck, string> = {
  expired: "get a new one with `updraft token issue` or from your VO's IAM",
  "not-yet-valid":
    "check the clocks of this machine and of the issuer (NTP), or wait until its nbf " +
    "(`updraft token info` shows it)",
  audience:
    "get one whose aud names this service's URL (`updraft token issue --aud URL`, or ask your " +
    "VO's IAM for that audience)",
  issuer: "use a token from an issuer this service trusts, or ask its operator to trust yours",
  signature: "it was altered or signed by another key: get a new one from its issuer",
  "unknown-key": "get a new one; if the issuer has just rotated its keys, try again in a minute",
  algorithm: "get one signed ES256 or RS256",
  scope: "get one with that scope (`updraft token issue --scope`, or from your VO's IAM)",
  size: "get a smaller one (fewer groups and scopes), or ask the operator to raise max_token_bytes",
  malformed: "look at it with `updraft token info`, and get a new one",
  role: "ask the service's operator for an authorization rule for your issuer, sub or group",
  revoked: "the pilot needs a new credential from its frontend",
  unsupported: "use a certificate or proxy instead (--proxy or --cert)",
  unverifiable: "try again later; the service's log has the reason",
};

/** RFC 6750's scope-token characters: printable ASCII without space, `"` and `\`. */
const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]{1,128}$/;
const MAX_SCOPES = 16;

/** The `WWW-Authenticate` value; only fixed words and well-formed scope tokens go in it. */
export function formatBearerChallenge(c: BearerChallenge): string {
  const scopes = (c.scopes ?? []).filter((s) => SCOPE_TOKEN.test(s)).slice(0, MAX_SCOPES);
  const scope =
    c.error === "insufficient_scope" && scopes.length > 0 ? `, scope="${scopes.join(" ")}"` : "";
  return `Bearer error="${c.error}", error_description="${c.check}"${scope}`;
}

/**
 * A server's challenge, read strictly: an unknown error or check, or anything else, is no
 * challenge (the caller falls back to the status), so a server cannot put its own words here.
 */
export function parseBearerChallenge(header: unknown): BearerChallenge | undefined {
  if (typeof header !== "string" || header.length > 4096) return undefined;
  const m = /^Bearer\s+(.*)$/i.exec(header.trim());
  if (!m) return undefined;
  const params = new Map<string, string>();
  for (const p of m[1]!.matchAll(/([A-Za-z_]+)\s*=\s*"([^"\\]*)"/g)) {
    params.set(p[1]!.toLowerCase(), p[2]!);
  }
  const error = params.get("error");
  const check = params.get("error_description");
  if (error !== "invalid_token" && error !== "insufficient_scope") return undefined;
  if (!isTokenCheck(check)) return undefined;
  const scopes = (params.get("scope") ?? "")
    .split(" ")
    .filter((s) => SCOPE_TOKEN.test(s))
    .slice(0, MAX_SCOPES);
  return { error, check, ...(scopes.length > 0 ? { scopes } : {}) };
}

function isTokenCheck(v: unknown): v is TokenCheck {
  return typeof v === "string" && (TOKEN_CHECKS as readonly string[]).includes(v);
}

/** The check that failed in words, with the scopes wanted when known. */
export function tokenCheckText(c: BearerChallenge): string {
  const wanted = c.scopes?.length ? ` (${c.scopes.join(" or ")})` : "";
  return `${FAILED[c.check]}${wanted}`;
}

/** Which check failed, without advice: the listener's `X-Updraft-Reason` for older clients. */
export function tokenRefusalReason(c: BearerChallenge): string {
  const head =
    c.error === "invalid_token"
      ? "the bearer token was not accepted"
      : "the bearer token was accepted but gives no access here";
  return `${head} (check: ${c.check}): ${tokenCheckText(c)}`;
}

/**
 * What the holder is told: which check failed, then what to do next. `said` is the server's own
 * reason for a 403, which names the holder's verified identity.
 */
export function tokenRefusalMessage(c: BearerChallenge, said?: string): string {
  return `${tokenRefusalReason(c)}${said ? ` (${said})` : ""}; ${NEXT[c.check]}`;
}
