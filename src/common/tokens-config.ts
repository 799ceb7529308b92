/**
 * The `tokens` block every listening daemon shares: which bearer-token issuers it trusts (keys
 * from a local jwks.json or the issuer's OIDC discovery), the audiences that name it, whether the
 * WLCG "any" audience is accepted, and the clock leeway. Without the block a daemon takes no
 * tokens at all; certificates work either way.
 *
 *   tokens:
 *     issuers:
 *       - issuer: https://cms-auth.web.cern.ch/
 *       - issuer: https://pool.example.org/tokens
 *         jwks_file: /etc/updraft/tokens/jwks.json
 *     audiences: [wss://schedd.example.org:9618/]
 *     accept_any_audience: false
 *     leeway_s: 60
 *     revoked_pilots_file: /etc/updraft/revoked-pilots
 */
import { readFileSync } from "node:fs";
import { z } from "zod";
import { duration } from "./config-blocks.js";
import { ConfigError } from "./config.js";
import type { Logger } from "./logger.js";
import { TlsFileError } from "./tls-rpc.js";
import { createPilotRevocationFile, type PilotRevocations } from "../security/pilot-revocations.js";
import { createIssuerKeySource, parseJwks } from "../security/token-keys.js";
import {
  createTokenVerifier,
  DEFAULT_LEEWAY_S,
  DEFAULT_MAX_TOKEN_BYTES,
  type TokenVerifier,
} from "../security/token-verify.js";

const issuerSchema = z
  .object({
    /** The exact `iss` string tokens carry; an https URL (WLCG profile). */
    issuer: z
      .string()
      .url()
      .startsWith("https://", "a token issuer is an https URL")
      // Identities are <issuer>#<sub>: a '#' in the issuer would let one issuer's identities
      // read as another's.
      .refine((v) => !v.includes("#"), "a token issuer has no '#' (identities are <issuer>#<sub>)"),
    /** The issuer's public keys; when absent they come from `<issuer>/.well-known/openid-configuration`. */
    jwks_file: z.string().min(1).optional(),
    /** PEM CA bundle for the discovery HTTPS fetches; the system's CAs when absent. */
    ca_file: z.string().min(1).optional(),
  })
  .strict();

export const tokensConfigSchema = z
  .object({
    issuers: z.array(issuerSchema).min(1, "name at least one trusted issuer"),
    /** Audiences that name this daemon (its URLs); a token must carry one of them. */
    audiences: z.array(z.string().min(1).max(1024)).default([]),
    /** Also accept the WLCG "any" audience, https://wlcg.cern.ch/jwt/v1/any. */
    accept_any_audience: z.boolean().default(false),
    /** Clock skew allowed on exp, nbf and iat. */
    leeway_s: duration(z.number().int().min(0).max(600)).default(DEFAULT_LEEWAY_S),
    /** Longest token accepted, in bytes. */
    max_token_bytes: z.number().int().min(512).max(65_536).default(DEFAULT_MAX_TOKEN_BYTES),
    /** Revoked pilot ids, one a line; re-read when it changes (see pilot-revocations.ts). */
    revoked_pilots_file: z.string().min(1).optional(),
  })
  .strict()
  .superRefine((t, ctx) => {
    const seen = new Set<string>();
    t.issuers.forEach((i, n) => {
      if (seen.has(i.issuer)) {
        ctx.addIssue({ code: "custom", path: ["issuers", n, "issuer"], message: "listed twice" });
      }
      seen.add(i.issuer);
    });
  });

export type TokensConfig = z.output<typeof tokensConfigSchema>;

/**
 * The verifier for a daemon's `tokens` block. `ownAudiences` are added to the configured ones
 * (the daemon's advertised URL, say). Refuses a block that leaves no audience at all, since then
 * no token could ever be accepted.
 */
export function tokenVerifierFromConfig(
  cfg: TokensConfig,
  ownAudiences: readonly string[] = [],
): TokenVerifier {
  const audiences = [...new Set([...cfg.audiences, ...ownAudiences])];
  if (audiences.length === 0 && !cfg.accept_any_audience) {
    throw new ConfigError("configuration", [
      {
        path: "tokens.audiences",
        message:
          "no audience names this daemon; list its URLs under tokens.audiences or set accept_any_audience",
      },
    ]);
  }
  for (const [n, i] of cfg.issuers.entries()) {
    if (i.jwks_file === undefined) continue;
    // A broken key file is an error at start, not a refusal of every token later.
    try {
      if (parseJwks(readFileSync(i.jwks_file, "utf8")).keys.length === 0) {
        throw new Error("it holds no public key");
      }
    } catch (err) {
      throw new ConfigError("configuration", [
        {
          path: `tokens.issuers[${n}].jwks_file`,
          message: `${i.jwks_file}: ${(err as Error).message}`,
        },
      ]);
    }
  }
  return createTokenVerifier({
    issuers: cfg.issuers.map((i, n) =>
      createIssuerKeySource(i.issuer, {
        ...(i.jwks_file !== undefined ? { jwksFile: i.jwks_file } : {}),
        ...(i.ca_file !== undefined
          ? { ca: readCaFile(i.ca_file, `tokens.issuers[${n}].ca_file`) }
          : {}),
      }),
    ),
    audiences,
    acceptAnyAudience: cfg.accept_any_audience,
    leewayS: cfg.leeway_s,
    maxTokenBytes: cfg.max_token_bytes,
  });
}

/** An issuer's CA bundle: one the daemon cannot read is a tls file error naming its key (exit 71). */
function readCaFile(file: string, key: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new TlsFileError(
      `${key} ${file}: ${(err as Error).message} (check the path and its mode)`,
    );
  }
}

/** The revocation list of a `tokens` block, or undefined when it names no file. */
export function pilotRevocationsFromConfig(
  cfg: TokensConfig,
  log: Logger,
): PilotRevocations | undefined {
  const file = cfg.revoked_pilots_file;
  if (file === undefined) return undefined;
  try {
    return createPilotRevocationFile(file, {
      onError: (reason) =>
        log.warn({ file, reason }, "revoked pilots file unreadable; the previous list stays"),
    });
  } catch (err) {
    throw new ConfigError("configuration", [
      { path: "tokens.revoked_pilots_file", message: `${file}: ${(err as Error).message}` },
    ]);
  }
}
