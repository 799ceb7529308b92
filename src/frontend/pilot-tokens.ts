/**
 * Pilot tokens: the frontend as the issuer of its pilots' credentials. Each cycle, for every
 * GlideClient request whose credential is `pilot_tokens`, it signs a batch of tokens, one per
 * pilot the factory may start for that request, and seals the batch to that factory's key as
 * any credential travels. Each token has its own `sub` (`pilot-<uuid>`) and carries the
 * `updraft.pilot` binding: frontend, group, entry, factory, site, the group's start_expr and the
 * pilot id. The collector and schedds take a pilot's site, entry and group from that claim, not
 * from its slot ad, and can revoke one pilot by its id.
 *
 * Why a batch and not one token per entry (glideinWMS's IDTOKENs are per entry, shared by the
 * entry's glideins): the factory cannot sign, so a per-pilot token must be made here, and a batch
 * sized to the request costs one signature per pilot (about 0.1 ms). A stolen token then speaks
 * for one pilot, which can be revoked alone, and leases and claims name that pilot.
 */
import { randomUUID } from "node:crypto";
import type { ClassAd } from "../classad/index.js";
import type { Logger } from "../common/logger.js";
import { PILOT_BINDING_CLAIM, pilotBindingClaim } from "../security/pilot-binding.js";
import { loadIssuer, signToken, type LoadedIssuer } from "../security/token-issuer.js";
import { GLIDE_CLIENT } from "../ads/names.js";
import type { PendingPilotTokens } from "./ads.js";
import {
  fixedScheddUrls,
  poolCollectorUrls,
  type FrontendConfig,
  type PilotTokensConfig,
} from "./config.js";
import type { CredentialSealer } from "./credential-seal.js";

/** The `sub` of a pilot token: one per pilot, so its identity names the pilot. */
export function pilotTokenSub(pilotId: string): string {
  return `pilot-${pilotId}`;
}

export interface PilotTokenMinter {
  readonly issuer: string;
  /** `count` tokens for the request, each with its own pilot id; newline-separated. */
  mint(p: Pick<PendingPilotTokens, "binding" | "count">, nowMs?: number): Promise<string>;
}

/**
 * Audiences of a pilot token: the collectors' and the schedds' URLs (`schedds`: those found this
 * cycle when they are found through the collector), and any configured.
 */
export function pilotTokenAudiences(
  config: FrontendConfig,
  schedds: readonly string[] = fixedScheddUrls(config),
): string[] {
  const extra = config.security.pilot_tokens?.audiences ?? [];
  return [...new Set([...poolCollectorUrls(config), ...schedds, ...extra])];
}

export async function createPilotTokenMinter(
  cfg: PilotTokensConfig,
  /** Fixed, or asked at each mint (schedds found through the collector come and go). */
  audiences: readonly string[] | (() => readonly string[]),
): Promise<PilotTokenMinter> {
  const signer: LoadedIssuer = await loadIssuer(cfg.dir);
  return {
    issuer: signer.issuer,
    async mint(p, nowMs) {
      const tokens: string[] = [];
      for (let i = 0; i < p.count; i++) {
        const pilotId = randomUUID();
        tokens.push(
          await signToken(signer, {
            sub: pilotTokenSub(pilotId),
            audiences: typeof audiences === "function" ? audiences() : audiences,
            lifetimeS: cfg.lifetime_s,
            extra: { [PILOT_BINDING_CLAIM]: pilotBindingClaim({ ...p.binding, pilotId }) },
            ...(nowMs !== undefined ? { now: nowMs } : {}),
          }),
        );
      }
      return `${tokens.join("\n")}\n`;
    },
  };
}

/**
 * Mint and seal each pending batch into its ad. A request whose batch cannot be made is taken out
 * of `ads` (the factory would have nothing to start pilots with) and reported in the result.
 */
export async function attachPilotTokens(
  pending: readonly PendingPilotTokens[],
  ads: ClassAd[],
  minter: PilotTokenMinter,
  sealer: CredentialSealer,
  log: Logger,
): Promise<{ minted: number; failed: number }> {
  let minted = 0;
  let failed = 0;
  for (const p of pending) {
    try {
      const batch = await minter.mint(p);
      p.ad.setValue(GLIDE_CLIENT.EncCredential, sealer.seal(batch, p.publicKeyPem));
      minted += p.count;
    } catch (err) {
      failed++;
      const i = ads.indexOf(p.ad);
      if (i >= 0) ads.splice(i, 1);
      log.warn(
        { group: p.binding.group, entry: p.binding.entry, reason: (err as Error).message },
        "pilot tokens not minted; request not advertised",
      );
    }
  }
  return { minted, failed };
}
