/**
 * CE tokens: the frontend's bearer token for submitting to each entry's CE, its audience that CE
 * (glideinWMS's per-entry `frontend_scitoken`). Either signed with the frontend's own issuer
 * (`security.ce_tokens.dir`), which the CEs trust, or ready-made token files from the VO's token
 * service (`security.ce_tokens.files`), read every cycle since a tool such as htgettoken or
 * oidc-agent refreshes them in place. A minted token is reused for half its life, and a file's
 * token until the file changes, so the sealed text, and the factory's cache of what it
 * decrypted, stay the same from cycle to cycle until a fresh token is due. Every minted token has
 * the same `sub`: the CE keeps jobs for the subject that submitted them, and the factory watches
 * and removes earlier pilots with the newest token.
 */
import type { Logger } from "../common/logger.js";
import { GLIDE_CLIENT } from "../ads/names.js";
import { readBoundedText } from "../common/bounded-read.js";
import { UpdraftError } from "../common/errors.js";
import { checkCeToken, MAX_CE_TOKEN_BYTES } from "../security/ce-token-check.js";
import { loadIssuer, signToken, type LoadedIssuer } from "../security/token-issuer.js";
import type { PendingCeToken } from "./ads.js";
import type { CeTokensConfig } from "./config.js";
import type { CredentialSealer } from "./credential-seal.js";

/** No token file the frontend could read is fit for an entry's CE; the reasons are listed. */
export class CeTokenError extends UpdraftError {
  readonly code = "ce-token-unfit";
  override name = "CeTokenError";
}

/** Where a cycle's CE tokens come from: minted, or read from files. */
export interface CeTokenSource {
  /** A token for `audience`; throws, saying why (never with a token), when there is none. */
  token(audience: string, nowMs?: number): Promise<string>;
}

export interface CeTokenMinter extends CeTokenSource {
  readonly issuer: string;
  /** A token for `audience`: the one made earlier while half its life remains, else a new one. */
  token(audience: string, nowMs?: number): Promise<string>;
}

export async function createCeTokenMinter(
  cfg: CeTokensConfig,
  defaultSub: string,
): Promise<CeTokenMinter> {
  if (cfg.dir === undefined) throw new Error("security.ce_tokens names no issuer dir");
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

/** How many files' refusals a "no token" reason lists. */
const REASONS_LISTED = 4;

/**
 * The ready-made CE tokens in `files`, read now (each at most MAX_CE_TOKEN_BYTES): for an
 * audience, the token that passes every check for that CE (src/security/ce-token-check.ts) and
 * lives longest. Files that cannot be read are listed in `unreadable` with why, by path only.
 */
export function readCeTokenFiles(
  files: readonly string[],
  nowMs: number,
): { source: CeTokenSource; unreadable: { file: string; reason: string }[] } {
  const read: { file: string; token: string }[] = [];
  const unreadable: { file: string; reason: string }[] = [];
  for (const file of files) {
    try {
      read.push({ file, token: readBoundedText(file, MAX_CE_TOKEN_BYTES + 2).trim() });
    } catch (err) {
      unreadable.push({ file, reason: (err as Error).message });
    }
  }
  const nowS = Math.floor(nowMs / 1000);
  const source: CeTokenSource = {
    token(audience) {
      let best: { token: string; exp: number } | undefined;
      const refused: string[] = [];
      for (const r of read) {
        const c = checkCeToken(r.token, audience, nowS);
        if (!c.ok) refused.push(`${r.file}: ${c.reason}`);
        else if (!best || c.exp > best.exp) best = { token: r.token, exp: c.exp };
      }
      if (best) return Promise.resolve(best.token);
      const listed = refused.slice(0, REASONS_LISTED).join("; ");
      const more =
        refused.length > REASONS_LISTED ? `; ${refused.length - REASONS_LISTED} more` : "";
      return Promise.reject(
        new CeTokenError(
          `no readable token file is fit for this CE (${listed || "none read"}${more})`,
        ),
      );
    },
  };
  return { source, unreadable };
}

/**
 * Put each pending ad's CE token in it, sealed to its factory's key. An ad whose token cannot be
 * made goes without one (the factory then says the request carries none); the token never
 * reaches the log.
 */
export async function attachCeTokens(
  pending: readonly PendingCeToken[],
  minter: CeTokenSource,
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
