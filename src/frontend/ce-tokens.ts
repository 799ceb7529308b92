/**
 * CE tokens: the frontend's bearer token for submitting to each entry's CE, its audience that CE
 * (glideinWMS's per-entry `frontend_scitoken`). Signed with the frontend's own issuer
 * (`security.ce_tokens`), which the CEs trust; one token per audience is reused for half its
 * life, so the sealed text, and the factory's cache of what it decrypted, stay the same from
 * cycle to cycle until a fresh token is due. Every token has the same `sub`: the CE keeps jobs
 * for the subject that submitted them, and the factory watches and removes earlier pilots with
 * the newest token.
 */
import type { Logger } from "../common/logger.js";
import { GLIDE_CLIENT } from "../ads/names.js";
import { loadIssuer, signToken, type LoadedIssuer } from "../security/token-issuer.js";
import type { PendingCeToken } from "./ads.js";
import type { CeTokensConfig } from "./config.js";
import type { CredentialSealer } from "./credential-seal.js";

export interface CeTokenMinter {
  readonly issuer: string;
  /** A token for `audience`: the one made earlier while half its life remains, else a new one. */
  token(audience: string, nowMs?: number): Promise<string>;
}

export async function createCeTokenMinter(
  cfg: CeTokensConfig,
  defaultSub: string,
): Promise<CeTokenMinter> {
  const signer: LoadedIssuer = await loadIssuer(cfg.dir);
  const made = new Map<string, { token: string; renewAtMs: number; expMs: number }>();
  return {
    issuer: signer.issuer,
    async token(audience, nowMs = Date.now()) {
      const old = made.get(audience);
      if (old && old.renewAtMs > nowMs) return old.token;
      for (const [aud, t] of made) if (t.expMs <= nowMs) made.delete(aud);
      const token = await signToken(signer, {
        sub: cfg.sub ?? defaultSub,
        audiences: [audience],
        scope: cfg.scope,
        lifetimeS: cfg.lifetime_s,
        now: nowMs,
      });
      made.set(audience, {
        token,
        renewAtMs: nowMs + (cfg.lifetime_s * 1000) / 2,
        expMs: nowMs + cfg.lifetime_s * 1000,
      });
      return token;
    },
  };
}

/**
 * Put each pending ad's CE token in it, sealed to its factory's key. An ad whose token cannot be
 * made goes without one (the factory then says the request carries none); the token never
 * reaches the log.
 */
export async function attachCeTokens(
  pending: readonly PendingCeToken[],
  minter: CeTokenMinter,
  sealer: CredentialSealer,
  log: Logger,
  nowMs?: number,
): Promise<{ attached: number; failed: number }> {
  let attached = 0;
  let failed = 0;
  for (const p of pending) {
    try {
      const token = await minter.token(p.audience, nowMs);
      p.ad.setValue(GLIDE_CLIENT.EncSubmitToken, sealer.seal(token, p.publicKeyPem));
      attached++;
    } catch (err) {
      failed++;
      log.warn(
        { entry: p.entry, audience: p.audience, reason: (err as Error).message },
        "CE token not made; the request goes without one",
      );
    }
  }
  return { attached, failed };
}
