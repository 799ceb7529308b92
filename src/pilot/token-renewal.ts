/**
 * A running pilot's token, renewed before it expires. The pilot makes an RSA key pair in memory,
 * advertises the public key and its token's expiry in its Slot ad, and from half its token's life
 * on looks for the `PilotCredential` ad named after its `sub`, which its frontend writes sealed to
 * that key (see frontend/pilot-renewal.ts). Only the ad written by that frontend counts: the pilot
 * learns its identity from the factory (the writer of the request the pilot was made for), and
 * the collector keeps each writer's ad of a name apart, so another writer can neither pass a token
 * of its own nor keep the frontend's ad out. A renewed token must name the same issuer, `sub` and
 * binding and end later than the one held; its signature is the collector's and schedds' to check,
 * as for the first token (the pilot holds no issuer keys). Connections take the new token from
 * their next (re)connection on.
 *
 * When no renewal has come with an eighth of the token's life left, `giveUpAt` says when the token
 * ends, and the pilot drains as before a shutdown, handing its jobs back in time.
 */
import { generateKeyPair, type KeyObject } from "node:crypto";
import { isDeepStrictEqual, promisify } from "node:util";
import { decodeJwt } from "jose/jwt/decode";
import { AD_TYPE, COMMON, PILOT_CREDENTIAL, SLOT } from "../ads/index.js";
import { unparseValue } from "../classad/index.js";
import type { CollectorClient } from "../collector/client.js";
import type { Logger } from "../common/logger.js";
import { decryptCredential } from "../security/credential-crypto.js";
import { PILOT_BINDING_CLAIM } from "../security/pilot-binding.js";

/** Longest sealed token read from a PilotCredential ad (a token is at most a few kB). */
const MAX_SEALED_CHARS = 64 * 1024;
// A `sub` safe to quote in a constraint: what the frontend mints (`pilot-<uuid>`) and more.
const SUB_RE = /^[A-Za-z0-9][A-Za-z0-9._@:+-]{0,127}$/;

export interface TokenFacts {
  iss: string;
  sub: string;
  /** Seconds since the epoch. */
  iat: number;
  exp: number;
  /** The `updraft.pilot` claim as the token states it. */
  binding: unknown;
  /** The binding's `renew_until`, when the token may be renewed. */
  renewUntil?: number;
  /** The token's audiences. */
  aud: string[];
}

/** What a token states, unverified; undefined when it is not a token with iss, sub and exp. */
export function tokenFacts(token: string): TokenFacts | undefined {
  let c: Record<string, unknown>;
  try {
    c = decodeJwt(token) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  const { iss, sub, exp } = c;
  if (typeof iss !== "string" || typeof sub !== "string" || typeof exp !== "number") {
    return undefined;
  }
  const iat = typeof c.iat === "number" ? c.iat : exp;
  const binding = c[PILOT_BINDING_CLAIM];
  const ru = (binding as { renew_until?: unknown } | undefined)?.renew_until;
  const aud = typeof c.aud === "string" ? [c.aud] : Array.isArray(c.aud) ? c.aud : [];
  return {
    iss,
    sub,
    iat,
    exp,
    binding,
    aud: aud.filter((a): a is string => typeof a === "string"),
    ...(typeof ru === "number" && ru > exp ? { renewUntil: ru } : {}),
  };
}

/**
 * Whether `next` may replace `held`: same issuer, `sub` and binding, a later `exp` that is still
 * ahead, issued no later than now (with a minute of clock skew). Why not, otherwise.
 */
export function acceptRenewal(held: TokenFacts, next: string, nowS: number): string | undefined {
  const n = tokenFacts(next);
  if (!n) return "not a token";
  if (n.iss !== held.iss) return "another issuer";
  if (n.sub !== held.sub) return "another sub";
  if (!isDeepStrictEqual(n.binding, held.binding)) return "another binding";
  if (n.exp <= held.exp) return "no later than the token held";
  if (n.exp <= nowS) return "expired";
  if (n.iat > nowS + 60) return "issued in the future";
  return undefined;
}

export interface TokenRenewer {
  /** The token to present at the next connection. */
  current(): string;
  /** Attributes for the Slot ad: the renewal key (once made) and the held token's expiry. */
  slotAttrs(): Promise<Record<string, string>>;
  /** One look for a renewed token; true when one was taken. */
  check(collector: CollectorClient, nowMs?: number): Promise<boolean>;
  /** When the held token ends if no renewal came in time (ms), else undefined. */
  giveUpAt(nowMs?: number): number | undefined;
  /** How many renewed tokens were taken. */
  readonly renewals: number;
  /** Check every `everyMs` (once half the token's life is gone) until `stop`. */
  start(collector: CollectorClient): void;
  stop(): void;
}

export interface TokenRenewerOptions {
  /** The frontend's identity as the collector stamps it: only its PilotCredential ad is read. */
  frontendIdentity: string;
  log?: Logger | undefined;
  /**
   * Told the schedds a renewal names (its ad's list, those the new token's audience names too),
   * so the pilot reaches schedds found after it was submitted.
   */
  onSchedds?: (urls: string[]) => void;
}

/** Most schedds one renewal may name. */
export const MAX_RENEWAL_SCHEDDS = 64;

/**
 * The schedds of a PilotCredential ad's list (a ClassAd string, comma-separated) that the token's
 * audience names, as wss:// URLs, each once and at most MAX_RENEWAL_SCHEDDS: a schedd the token
 * is not signed for would refuse the pilot, and anything else is not a schedd to call.
 */
export function renewalSchedds(listAttr: string | undefined, aud: readonly string[]): string[] {
  if (listAttr === undefined || listAttr.length > 64 * 1024) return [];
  let list: unknown;
  try {
    list = JSON.parse(listAttr);
  } catch {
    return [];
  }
  if (typeof list !== "string") return [];
  const named = new Set(aud);
  const out = new Set<string>();
  for (const url of list.split(",").map((u) => u.trim())) {
    if (out.size >= MAX_RENEWAL_SCHEDDS) break;
    if (named.has(url) && isWssUrl(url)) out.add(url);
  }
  return [...out];
}

function isWssUrl(text: string): boolean {
  try {
    return new URL(text).protocol === "wss:";
  } catch {
    return false;
  }
}

/** A renewer for a token that carries `renew_until`; undefined for any other credential. */
export function createTokenRenewer(
  token: string,
  { frontendIdentity, log, onSchedds }: TokenRenewerOptions,
): TokenRenewer | undefined {
  let held = tokenFacts(token);
  if (!held || held.renewUntil === undefined || !SUB_RE.test(held.sub)) return undefined;
  // The identity as the collector stamps it on every ad (a ClassAd string).
  const writer = unparseValue(frontendIdentity);
  let text = token;
  let renewals = 0;
  // In memory only: the key never touches a file, so a job can read it only from the pilot's
  // memory, where the token is anyway. Made off the main thread (100-500 ms of CPU here): the
  // pilot's first claim does not wait for it, only its first slot ad does.
  const key = makeKey();
  key.catch(() => {}); // awaited where used; an early failure is not an unhandled rejection
  let timer: NodeJS.Timeout | undefined;
  let checking = false;

  const life = () => Math.max(1, held!.exp - held!.iat);
  const due = (nowS: number) => held!.exp - nowS <= life() / 2 && held!.exp < held!.renewUntil!;

  async function check(collector: CollectorClient, nowMs = Date.now()): Promise<boolean> {
    const nowS = Math.floor(nowMs / 1000);
    const ads = await collector.query({
      type: AD_TYPE.PilotCredential,
      // `=?=`: an identity is compared as written, not without case as `==` compares strings.
      constraint: `${COMMON.Name} == ${JSON.stringify(held!.sub)} && ${COMMON.AuthenticatedIdentity} =?= ${writer}`,
      limit: 4,
    });
    for (const ad of ads) {
      // The collector applied the constraint; checked again so no other writer's ad is opened.
      if (ad[COMMON.AuthenticatedIdentity] !== writer) continue;
      const notAfter = Number(ad[PILOT_CREDENTIAL.NotAfter]);
      if (Number.isFinite(notAfter) && notAfter <= held!.exp) continue; // the one held, or older
      const sealed = ad[PILOT_CREDENTIAL.SealedToken];
      if (sealed === undefined || sealed.length > MAX_SEALED_CHARS) continue;
      let next: string;
      try {
        next = decryptCredential(JSON.parse(sealed) as string, (await key).privateKey)
          .toString("latin1")
          .trim();
      } catch (err) {
        log?.warn({ reason: (err as Error).message }, "renewed token cannot be opened; ignored");
        continue;
      }
      const refused = acceptRenewal(held!, next, nowS);
      if (refused !== undefined) {
        log?.warn({ reason: refused }, "renewed token not taken");
        continue;
      }
      text = next;
      held = tokenFacts(next)!;
      renewals++;
      log?.info({ exp: new Date(held.exp * 1000).toISOString() }, "pilot token renewed");
      const schedds = renewalSchedds(ad[PILOT_CREDENTIAL.Schedds], held.aud);
      if (schedds.length > 0) onSchedds?.(schedds);
      return true;
    }
    return false;
  }

  return {
    current: () => text,
    slotAttrs: async () => ({
      [SLOT.RenewalKey]: JSON.stringify((await key).publicB64),
      [SLOT.CredentialExpiry]: String(held!.exp),
    }),
    check,
    giveUpAt(nowMs = Date.now()) {
      const left = held!.exp - nowMs / 1000;
      return left <= life() / 8 ? held!.exp * 1000 : undefined;
    },
    get renewals() {
      return renewals;
    },
    start(collector) {
      const everyMs = Math.min(60_000, Math.max(2_000, (life() * 1000) / 12));
      timer = setInterval(() => {
        if (checking || !due(Math.floor(Date.now() / 1000))) return;
        checking = true;
        check(collector)
          .catch((err: unknown) => log?.warn({ err }, "cannot look for a renewed token"))
          .finally(() => (checking = false));
      }, everyMs);
      timer.unref();
    },
    stop() {
      if (timer) clearInterval(timer);
    },
  };
}

const generateRsa = promisify(generateKeyPair);

async function makeKey(): Promise<{ privateKey: KeyObject; publicB64: string }> {
  const { publicKey, privateKey } = await generateRsa("rsa", { modulusLength: 2048 });
  const publicB64 = publicKey.export({ type: "spki", format: "der" }).toString("base64");
  return { privateKey, publicB64 };
}
