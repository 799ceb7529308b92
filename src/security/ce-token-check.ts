/**
 * What may be checked of a bearer token meant for a CE by someone who holds none of its issuer's
 * keys (the frontend reading a ready-made token file, the factory before it submits): the CE
 * verifies the signature. These checks stop a token from going to the wrong place or going dead:
 * the audience must name the CE (a token for another CE, or for the WLCG "any" audience, is not
 * used), the token must be a JWS of an asymmetric algorithm, unexpired, already valid, and allow
 * submission, by the WLCG `compute.create` scope or, where a token carries no scopes, by
 * `wlcg.groups` (the profile's group-based authorization).
 */

/** Largest CE token taken (as A-REX's REST client sends at most). */
export const MAX_CE_TOKEN_BYTES = 16 * 1024;

/** A token that expires within this margin is not sent: the CE would refuse it mid-submit. */
const EXPIRY_MARGIN_S = 60;

/** Clock skew allowed on `nbf`. */
const LEEWAY_S = 60;

/** The WLCG compute scope a CE asks of a token that submits jobs. */
export const SUBMIT_SCOPE = "compute.create";

const JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

export type CeTokenCheck = { ok: true; exp: number; owner: string } | { ok: false; reason: string };

export function decodeJwsPart(part: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(Buffer.from(part, "base64url").toString("utf8"));
    return v !== null && typeof v === "object" && !Array.isArray(v)
      ? (v as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Whether `token` may be sent to the CE whose audience is `audience` at `nowS`. Reasons start
 * with the failed check's name and never echo the token.
 */
export function checkCeToken(token: string, audience: string, nowS: number): CeTokenCheck {
  if (Buffer.byteLength(token) > MAX_CE_TOKEN_BYTES) {
    return { ok: false, reason: `size: longer than ${MAX_CE_TOKEN_BYTES} bytes` };
  }
  if (!JWS.test(token)) return { ok: false, reason: "malformed: not a signed JWT" };
  const [h, p] = token.split(".");
  const header = decodeJwsPart(h!);
  const claims = decodeJwsPart(p!);
  if (!header || !claims) return { ok: false, reason: "malformed: header or claims not JSON" };
  const alg = header.alg;
  if (typeof alg !== "string" || !/^(RS|PS|ES)(256|384|512)$|^EdDSA$/.test(alg)) {
    return { ok: false, reason: `algorithm: ${String(alg).slice(0, 20)} is not a public-key one` };
  }
  if (typeof claims.iss !== "string" || typeof claims.sub !== "string") {
    return { ok: false, reason: "malformed: no iss or sub" };
  }
  const aud = claims.aud;
  const auds = typeof aud === "string" ? [aud] : Array.isArray(aud) ? aud : [];
  if (audience === "" || !auds.includes(audience)) {
    return {
      ok: false,
      reason: `audience: the token does not name this entry's CE (${audience || "no gatekeeper set"})`,
    };
  }
  const exp = claims.exp;
  if (typeof exp !== "number") return { ok: false, reason: "malformed: no exp" };
  if (exp <= nowS + EXPIRY_MARGIN_S) return { ok: false, reason: "expired" };
  if (typeof claims.nbf === "number" && claims.nbf > nowS + LEEWAY_S) {
    return { ok: false, reason: "not yet valid" };
  }
  const scope = submitScopeProblem(claims);
  if (scope) return { ok: false, reason: scope };
  return { ok: true, exp, owner: `${claims.iss}#${claims.sub}` };
}

/**
 * A token with scopes must grant `compute.create`; one without any must carry `wlcg.groups`,
 * which the CE then authorizes on. A token with neither could submit nothing anywhere.
 */
function submitScopeProblem(claims: Record<string, unknown>): string | undefined {
  const scope = claims.scope;
  if (scope !== undefined) {
    if (typeof scope !== "string") return "malformed: scope is not a string";
    if (scope.split(" ").includes(SUBMIT_SCOPE)) return undefined;
    return `scope: the token does not grant ${SUBMIT_SCOPE}, which a CE asks to submit`;
  }
  const groups = claims["wlcg.groups"];
  if (Array.isArray(groups) && groups.length > 0) return undefined;
  return `scope: the token grants neither ${SUBMIT_SCOPE} nor any wlcg.groups`;
}

/** The `exp` of a token's text, or undefined when it cannot be read as one. */
export function tokenExp(text: string): number | undefined {
  const part = text.trim().split(".")[1];
  const claims = part !== undefined ? decodeJwsPart(part) : undefined;
  return typeof claims?.exp === "number" ? claims.exp : undefined;
}
