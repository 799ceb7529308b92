/**
 * Per-pilot proxies: the frontend signs, from its own pilot proxy (one `grid-proxy-init -rfc`
 * made), one RFC 3820 proxy per pilot the factory may start, each with its own key and its own
 * pilot id, and the `updraft.pilot` binding in its policy (frontend, group, entry, factory, site,
 * the group's start_expr). The servers name each pilot `<subject>#pilot-<id>`, take its site,
 * entry and group from the policy, and revoke one by id, as for a pilot token. A job that steals
 * its pilot's proxy acts as that pilot alone, within its binding, until the proxy expires. A
 * running pilot's proxy is renewed until the binding's `renew_until` (see pilot-renewal.ts).
 *
 * The frontend's own proxy never leaves the frontend: only the per-pilot proxies are sealed to
 * the factory's key. The factory cannot sign (it never holds the frontend's key), so signing is
 * here, as for pilot tokens. Each proxy's key is P-256, made on the thread pool: an RSA 2048 key
 * costs about 200 ms of CPU, a P-256 key 0.07 ms, and one is made per pilot.
 *
 * The batch the factory receives: each pilot's proxy certificate then its key, one pair per
 * pilot, then once the chain that signed them (see storePilotProxyBatch in factory/credentials).
 */
import { randomUUID } from "node:crypto";
import type { ClassAd } from "../classad/index.js";
import { UpdraftError } from "../common/errors.js";
import type { Logger } from "../common/logger.js";
import { readCredentialFile } from "../security/credential-file.js";
import { createPilotProxies } from "../security/proxy.js";
import type { PendingPilotTokens } from "./ads.js";
import type { PilotProxiesConfig } from "./config.js";
import type { CredentialSealer } from "./credential-seal.js";
import { attachSealedBatches, renewUntilFor } from "./pilot-tokens.js";

/**
 * The pilot proxies' settings and the pilots' walltime: with one, each binding carries
 * `renew_until` (the proxy's life plus the walltime) and the frontend renews the running pilot's
 * proxy until then (see pilot-renewal.ts); without, a proxy is never renewed.
 */
export type PilotProxyMinting = PilotProxiesConfig & { max_walltime_s?: number };

/** No pilot proxy to sign per-pilot proxies with, or one without its certificate and key. */
export class PilotProxyError extends UpdraftError {
  readonly code = "pilot-proxy";
  override name = "PilotProxyError";
}

/** `count` bound proxies signed with `issuerPem` (certificate, key and chain), as one batch. */
export async function mintPilotProxyBatch(
  p: Pick<PendingPilotTokens, "binding" | "count"> & { proxyIssuer: Buffer },
  cfg: PilotProxyMinting,
  now: Date = new Date(),
): Promise<string> {
  const issuer = readCredentialFile(p.proxyIssuer.toString("latin1"));
  if (issuer.keyPem === undefined || issuer.chainPem.length === 0) {
    throw new PilotProxyError("the pilot proxy file holds no certificate and key to sign with");
  }
  const nowS = Math.floor(now.getTime() / 1000);
  const renewUntil = renewUntilFor(cfg.lifetime_s, cfg.max_walltime_s ?? 0, nowS);
  const proxies = await createPilotProxies({
    certChainPem: issuer.chainPem.join(""),
    keyPem: issuer.keyPem,
    hours: cfg.lifetime_s / 3600,
    now,
    bindings: Array.from({ length: p.count }, () => ({
      ...p.binding,
      pilotId: randomUUID(),
      ...(renewUntil !== undefined ? { renewUntil } : {}),
    })),
  });
  const pairs = proxies.map((pem) => {
    const c = readCredentialFile(pem);
    return `${c.chainPem[0]!}${c.keyPem!}`;
  });
  return `${pairs.join("")}${issuer.chainPem.join("")}`;
}

/**
 * Mint and seal each pending batch of proxies into its ad. A request whose batch cannot be made
 * (an expired or unreadable proxy) is taken out of `ads` and reported, never sent without one.
 */
export async function attachPilotProxies(
  pending: readonly PendingPilotTokens[],
  ads: ClassAd[],
  cfg: PilotProxyMinting,
  sealer: CredentialSealer,
  log: Logger,
  now: () => Date = () => new Date(),
): Promise<{ minted: number; failed: number }> {
  const mint = async (p: PendingPilotTokens): Promise<string> => {
    if (p.proxyIssuer === undefined) throw new PilotProxyError("no pilot proxy to sign with");
    return mintPilotProxyBatch({ ...p, proxyIssuer: p.proxyIssuer }, cfg, now());
  };
  return attachSealedBatches(pending, ads, mint, sealer, log, "pilot proxies");
}
