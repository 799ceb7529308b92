/**
 * A running pilot's credential, renewed before it ends: one mechanism for tokens
 * (token-renewal.ts) and per-pilot proxies (proxy-renewal.ts). The pilot makes an RSA key pair in
 * memory, advertises the public key and its credential's expiry in its Slot ad, and from half its
 * credential's life on looks for the `PilotCredential` ad named after itself (`pilot-<id>`), which
 * its frontend writes for that key (see frontend/pilot-renewal.ts). Only the ad written by that
 * frontend counts: the pilot learns its identity from the factory (the writer of the request the
 * pilot was made for), and the collector keeps each writer's ad of a name apart, so another writer
 * can neither pass a credential of its own nor keep the frontend's ad out. What a renewal must be
 * to replace the one held is each kind's to say. Connections take the new credential from their
 * next (re)connection on.
 *
 * When no renewal has come with an eighth of the credential's life left, `giveUpAt` says when it
 * ends, and the pilot drains as before a shutdown, handing its jobs back in time.
 */
import { generateKeyPair, type KeyObject } from "node:crypto";
import { promisify } from "node:util";
import { AD_TYPE, COMMON, PILOT_CREDENTIAL, SLOT } from "../ads/index.js";
import { unparseValue } from "../classad/index.js";
import type { CollectorClient } from "../collector/client.js";
import type { Logger } from "../common/logger.js";

/** What the pilot knows of the credential it holds. */
export interface HeldCredential {
  /** The name of its PilotCredential ad: `pilot-<id>` (a token's `sub`). */
  name: string;
  /** When its life began and ends, and until when it may be renewed; seconds since the epoch. */
  start: number;
  exp: number;
  renewUntil: number;
  /** The servers it is good for (a token's audience); undefined when any. */
  aud?: readonly string[];
}

/** The pilot's renewal key, in memory only. */
export interface RenewalKey {
  privateKey: KeyObject;
  /** The public key, SPKI DER. */
  spkiDer: Buffer;
}

/** What differs between a token and a proxy. */
export interface RenewalKind<H extends HeldCredential> {
  /** "token" or "proxy", for the log. */
  what: string;
  /** The credential the frontend's ad carries, opened with the pilot's key; throws if it cannot. */
  open(ad: Record<string, string>, key: RenewalKey): string | undefined;
  /** `next` as the credential to hold (its facts and the text to connect with), or why not. */
  accept(
    held: H,
    next: string,
    key: RenewalKey,
    nowS: number,
  ): { held: H; text: string } | { refused: string };
}

export interface CredentialRenewer {
  /** The credential to present at the next connection (a token, or a proxy file's text). */
  current(): string;
  /** Attributes for the Slot ad: the renewal key (once made) and the held credential's expiry. */
  slotAttrs(): Promise<Record<string, string>>;
  /** One look for a renewed credential; true when one was taken. */
  check(collector: CollectorClient, nowMs?: number): Promise<boolean>;
  /** When the held credential ends if no renewal came in time (ms), else undefined. */
  giveUpAt(nowMs?: number): number | undefined;
  /** How many renewed credentials were taken. */
  readonly renewals: number;
  /** Check every `everyMs` (once half the credential's life is gone) until `stop`. */
  start(collector: CollectorClient): void;
  stop(): void;
}

export interface RenewerOptions {
  /** The frontend's identity as the collector stamps it: only its PilotCredential ad is read. */
  frontendIdentity: string;
  log?: Logger | undefined;
  /**
   * Told the schedds a renewal names (its ad's list, those the new credential is good for), so
   * the pilot reaches schedds found after it was submitted.
   */
  onSchedds?: (urls: string[]) => void;
}

/** Most schedds one renewal may name. */
export const MAX_RENEWAL_SCHEDDS = 64;

// A name safe to quote in a constraint: what the frontend mints (`pilot-<uuid>`) and more.
const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._@:+-]{0,127}$/;

/**
 * The schedds of a PilotCredential ad's list (a ClassAd string, comma-separated) that `aud`
 * names (any, when undefined), as wss:// URLs, each once and at most MAX_RENEWAL_SCHEDDS: a
 * schedd a token is not signed for would refuse the pilot, and anything else is not a schedd.
 */
export function renewalSchedds(
  listAttr: string | undefined,
  aud: readonly string[] | undefined,
): string[] {
  if (listAttr === undefined || listAttr.length > 64 * 1024) return [];
  let list: unknown;
  try {
    list = JSON.parse(listAttr);
  } catch {
    return [];
  }
  if (typeof list !== "string") return [];
  const named = aud === undefined ? undefined : new Set(aud);
  const out = new Set<string>();
  for (const url of list.split(",").map((u) => u.trim())) {
    if (out.size >= MAX_RENEWAL_SCHEDDS) break;
    if ((named === undefined || named.has(url)) && isWssUrl(url)) out.add(url);
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

/** A renewer for `first` (with `text` to connect with); undefined if its name is unsafe. */
export function createCredentialRenewer<H extends HeldCredential>(
  kind: RenewalKind<H>,
  first: H,
  text: string,
  { frontendIdentity, log, onSchedds }: RenewerOptions,
): CredentialRenewer | undefined {
  if (!NAME_RE.test(first.name) || !(first.renewUntil > first.exp)) return undefined;
  let held = first;
  let current = text;
  // The identity as the collector stamps it on every ad (a ClassAd string).
  const writer = unparseValue(frontendIdentity);
  let renewals = 0;
  // In memory only: the key never touches a file, so a job can read it only from the pilot's
  // memory, where the credential is anyway. Made off the main thread (100-500 ms of CPU here):
  // the pilot's first claim does not wait for it, only its first slot ad does.
  const key = makeKey();
  key.catch(() => {}); // awaited where used; an early failure is not an unhandled rejection
  let timer: NodeJS.Timeout | undefined;
  let checking = false;

  const life = () => Math.max(1, held.exp - held.start);
  const due = (nowS: number) => held.exp - nowS <= life() / 2 && held.exp < held.renewUntil;

  async function check(collector: CollectorClient, nowMs = Date.now()): Promise<boolean> {
    const nowS = Math.floor(nowMs / 1000);
    const ads = await collector.query({
      type: AD_TYPE.PilotCredential,
      // `=?=`: an identity is compared as written, not without case as `==` compares strings.
      constraint: `${COMMON.Name} == ${JSON.stringify(held.name)} && ${COMMON.AuthenticatedIdentity} =?= ${writer}`,
      limit: 4,
    });
    for (const ad of ads) {
      // The collector applied the constraint; checked again so no other writer's ad is opened.
      if (ad[COMMON.AuthenticatedIdentity] !== writer) continue;
      const notAfter = Number(ad[PILOT_CREDENTIAL.NotAfter]);
      if (Number.isFinite(notAfter) && notAfter <= held.exp) continue; // the one held, or older
      const k = await key;
      let next: string | undefined;
      try {
        next = kind.open(ad, k);
      } catch (err) {
        log?.warn(
          { reason: (err as Error).message },
          `renewed ${kind.what} cannot be opened; ignored`,
        );
        continue;
      }
      if (next === undefined) continue;
      const r = kind.accept(held, next, k, nowS);
      if ("refused" in r) {
        log?.warn({ reason: r.refused }, `renewed ${kind.what} not taken`);
        continue;
      }
      held = r.held;
      current = r.text;
      renewals++;
      log?.info({ exp: new Date(held.exp * 1000).toISOString() }, `pilot ${kind.what} renewed`);
      const schedds = renewalSchedds(ad[PILOT_CREDENTIAL.Schedds], held.aud);
      if (schedds.length > 0) onSchedds?.(schedds);
      return true;
    }
    return false;
  }

  return {
    current: () => current,
    slotAttrs: async () => ({
      [SLOT.RenewalKey]: JSON.stringify((await key).spkiDer.toString("base64")),
      [SLOT.CredentialExpiry]: String(held.exp),
    }),
    check,
    giveUpAt(nowMs = Date.now()) {
      const left = held.exp - nowMs / 1000;
      return left <= life() / 8 ? held.exp * 1000 : undefined;
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
          .catch((err: unknown) => log?.warn({ err }, `cannot look for a renewed ${kind.what}`))
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

async function makeKey(): Promise<RenewalKey> {
  const { publicKey, privateKey } = await generateRsa("rsa", { modulusLength: 2048 });
  return { privateKey, spkiDer: publicKey.export({ type: "spki", format: "der" }) };
}
