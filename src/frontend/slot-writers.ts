/**
 * Only the frontend's own pilots steer provisioning. Slot ads are what the frontend counts as its
 * running and idle pilots; anyone with the collector's `pilot` role can advertise a Slot ad naming
 * this frontend's client, and twenty forged idle slots would make it ask for no pilots. The
 * collector stamps every ad with its writer's `AuthenticatedIdentity`; a Slot ad counts only when
 * that is an identity the frontend's own pilots use: the identity of each pilot credential it
 * hands out (a proxy's end-entity subject, a token's `<iss>#<sub>`; per-pilot proxies signed from a
 * proxy of that subject are `<subject>#pilot-<id>`), and any listed in
 * `security.pilot_identities` (pilots whose credential the frontend does not hold itself).
 */
import { readFileSync } from "node:fs";
import { decodeJwt } from "jose";
import { ClassAd, tryParse } from "../classad/index.js";
import type { Logger } from "../common/logger.js";
import { describeCredential } from "../security/proxy-info.js";
import { issuerPaths } from "../security/token-issuer.js";
import type { CredentialType, FrontendConfig } from "./config.js";

/** The identity a pilot credential authenticates as, or undefined when it cannot be read. */
export function credentialIdentity(text: string, type: CredentialType): string | undefined {
  try {
    if (type === "token") {
      const claims = decodeJwt(text.trim());
      return claims.iss && claims.sub ? `${claims.iss}#${claims.sub}` : undefined;
    }
    return describeCredential(text, "pilot credential").identity;
  } catch {
    return undefined;
  }
}

/** Read every cycle with the credentials, so a credential of a new identity counts at once. */
export function ownPilotIdentities(config: FrontendConfig): Set<string> {
  const out = new Set(config.security.pilot_identities);
  for (const c of config.security.credentials) {
    if (c.file === undefined) continue; // minted pilot tokens: see ownPilotIssuers
    let text: string;
    try {
      text = readFileSync(c.file, "latin1");
    } catch {
      continue; // the daemon reports the unreadable file when it reads credentials
    }
    const id = credentialIdentity(text, c.type);
    if (id) out.add(id);
  }
  return out;
}

/**
 * Issuers whose every identity is one of this frontend's pilots: its own pilot-token issuer,
 * whose key only it holds, mints a new `sub` for each pilot.
 */
export function ownPilotIssuers(config: FrontendConfig): string[] {
  const t = config.security.pilot_tokens;
  if (!t) return [];
  try {
    return [readFileSync(issuerPaths(t.dir).issuerFile, "utf8").trim()];
  } catch {
    return []; // the daemon reports an unreadable issuer directory when it mints
  }
}

export interface SlotWriterFilter {
  /**
   * The Slot ads written by one of `identities`, or by any `<iss>#<sub>` of one of `issuers`;
   * the others are dropped and reported.
   */
  filter(
    ads: readonly Record<string, string>[],
    identities: ReadonlySet<string>,
    issuers?: readonly string[],
  ): Record<string, string>[];
}

const MAX_TRACKED = 1_000;

export function writerOf(ad: Readonly<Record<string, string>>): string | undefined {
  const parsed = tryParse(() => ClassAd.fromJSON({ A: ad.AuthenticatedIdentity ?? "undefined" }));
  if (!parsed.ok) return undefined;
  const v = parsed.value.evaluate("A");
  return typeof v === "string" ? v : undefined;
}

/**
 * The certificate subject a per-pilot proxy was signed from, for a writer the servers name
 * `<subject>#pilot-<id>` (pilot ids hold no `#`); "" for any other writer.
 */
function proxyOwner(writer: string): string {
  const i = writer.lastIndexOf("#pilot-");
  return i > 0 && writer.startsWith("/") ? writer.slice(0, i) : "";
}

/** Refusals are logged at warn once per writer per `intervalMs`, with how many were dropped. */
export function createSlotWriterFilter(
  log: Logger,
  intervalMs = 10 * 60_000,
  now: () => number = Date.now,
): SlotWriterFilter {
  const seen = new Map<string, [number, number]>();
  return {
    filter(ads, identities, issuers = []) {
      const prefixes = issuers.map((i) => `${i}#`);
      const kept: Record<string, string>[] = [];
      for (const ad of ads) {
        const writer = writerOf(ad);
        if (
          writer !== undefined &&
          (identities.has(writer) ||
            prefixes.some((p) => writer.startsWith(p)) ||
            identities.has(proxyOwner(writer)))
        ) {
          kept.push(ad);
          continue;
        }
        const key = writer ?? "";
        const t = now();
        const entry = seen.get(key);
        if (entry && t - entry[0] < intervalMs) {
          entry[1]++;
          continue;
        }
        if (seen.size >= MAX_TRACKED) seen.clear();
        seen.set(key, [t, 0]);
        log.warn(
          { identity: writer ?? null, count: (entry?.[1] ?? 0) + 1 },
          "Slot ad not counted: its writer is not an identity this frontend's pilots use",
        );
      }
      return kept;
    },
  };
}
