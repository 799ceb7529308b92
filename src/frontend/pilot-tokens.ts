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
import { UpdraftError } from "../common/errors.js";
import {
  PILOT_BINDING_CLAIM,
  pilotBindingClaim,
  type PilotBinding,
} from "../security/pilot-binding.js";
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

/** A renewal asked for a pilot past the time its binding allows renewals until. */
export class RenewalEndedError extends UpdraftError {
  readonly code = "renewal-ended";
  override name = "RenewalEndedError";
}

/** The `sub` of a pilot token: one per pilot, so its identity names the pilot. */
export function pilotTokenSub(pilotId: string): string {
  return `pilot-${pilotId}`;
}

export interface PilotTokenMinter {
  readonly issuer: string;
  /** `count` tokens for the request, each with its own pilot id; newline-separated. */
  mint(p: Pick<PendingPilotTokens, "binding" | "count">, nowMs?: number): Promise<string>;
  /**
   * A renewed token for a running pilot: same `sub` and binding (pilot id and `renew_until`
   * included), never past `renew_until`. The caller checks the pilot may still be renewed.
   */
  renew(
    binding: PilotBinding & { pilotId: string; renewUntil: number },
    nowMs?: number,
  ): Promise<Renewed>;
}

export interface Renewed {
  token: string;
  /** The token's `exp`, seconds since the epoch. */
  exp: number;
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

/**
 * Until when a pilot minted at `nowS` may have its token renewed: it must start within its first
 * token's life and then runs at most the walltime. No walltime, no renewal.
 */
export function renewUntilFor(lifetimeS: number, maxWalltimeS: number, nowS: number) {
  return maxWalltimeS > 0 ? nowS + lifetimeS + maxWalltimeS : undefined;
}

export async function createPilotTokenMinter(
  cfg: PilotTokensConfig,
  /** Fixed, or asked at each mint (schedds found through the collector come and go). */
  audiences: readonly string[] | (() => readonly string[]),
  maxWalltimeS = 0,
): Promise<PilotTokenMinter> {
  const signer: LoadedIssuer = await loadIssuer(cfg.dir);
  const sign = (b: PilotBinding, pilotId: string, lifetimeS: number, nowMs?: number) =>
    signToken(signer, {
      sub: pilotTokenSub(pilotId),
      audiences: typeof audiences === "function" ? audiences() : audiences,
      lifetimeS,
      extra: { [PILOT_BINDING_CLAIM]: pilotBindingClaim({ ...b, pilotId }) },
      ...(nowMs !== undefined ? { now: nowMs } : {}),
    });
  return {
    issuer: signer.issuer,
    async mint(p, nowMs) {
      const nowS = Math.floor((nowMs ?? Date.now()) / 1000);
      const renewUntil = renewUntilFor(cfg.lifetime_s, maxWalltimeS, nowS);
      const binding = renewUntil === undefined ? p.binding : { ...p.binding, renewUntil };
      const tokens: string[] = [];
      for (let i = 0; i < p.count; i++) {
        tokens.push(await sign(binding, randomUUID(), cfg.lifetime_s, nowMs));
      }
      return `${tokens.join("\n")}\n`;
    },
    async renew(b, nowMs) {
      const nowS = Math.floor((nowMs ?? Date.now()) / 1000);
      const lifetimeS = Math.min(cfg.lifetime_s, b.renewUntil - nowS);
      if (lifetimeS <= 0)
        throw new RenewalEndedError(`pilot ${b.pilotId} may not be renewed any more`);
      return { token: await sign(b, b.pilotId, lifetimeS, nowMs), exp: nowS + lifetimeS };
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
  return attachSealedBatches(pending, ads, (p) => minter.mint(p), sealer, log, "pilot tokens");
}

/**
 * The step pilot tokens and pilot proxies share: each pending request's batch from `mint`, sealed
 * to its factory into its ad; a request whose batch cannot be made is taken out of `ads` and
 * logged as `<what> not minted`, never sent without one.
 */
export async function attachSealedBatches(
  pending: readonly PendingPilotTokens[],
  ads: ClassAd[],
  mint: (p: PendingPilotTokens) => Promise<string>,
  sealer: CredentialSealer,
  log: Logger,
  what: string,
): Promise<{ minted: number; failed: number }> {
  let minted = 0;
  let failed = 0;
  for (const p of pending) {
    try {
      const batch = await mint(p);
      p.ad.setValue(GLIDE_CLIENT.EncCredential, sealer.seal(batch, p.publicKeyPem));
      minted += p.count;
    } catch (err) {
      failed++;
      const i = ads.indexOf(p.ad);
      if (i >= 0) ads.splice(i, 1);
      log.warn(
        { group: p.binding.group, entry: p.binding.entry, reason: (err as Error).message },
        `${what} not minted; request not advertised`,
      );
    }
  }
  return { minted, failed };
}
