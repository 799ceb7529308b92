/**
 * An issuer's public keys for bearer-token verification: from a local jwks.json, or from the
 * issuer's `/.well-known/openid-configuration` -> `jwks_uri` over verified HTTPS. Keys are held
 * in memory; a token naming a `kid` we do not hold refreshes the set at most once per
 * `refresh_min_s`, so a flood of made-up kids cannot turn into a flood of fetches.
 */
import { readFileSync } from "node:fs";
import { request } from "node:https";
import {
  createLocalJWKSet,
  type CryptoKey,
  type JSONWebKeySet,
  type JWSHeaderParameters,
} from "jose";
import { UpdraftError } from "../common/errors.js";

/**
 * An issuer's keys could not be had: its discovery document or JWKS is missing, not https,
 * malformed, too large, or did not come. Logged as the reason tokens of that issuer are refused.
 */
export class TokenKeyError extends UpdraftError {
  readonly code = "token-keys";
  override name = "TokenKeyError";
}

export interface IssuerKeySourceOptions {
  /** Path to a jwks.json; when absent, keys are discovered from the issuer's URL. */
  jwksFile?: string;
  /** PEM trust anchors for discovery; Node's default CAs when absent. */
  ca?: string | Buffer;
  /** Shortest time between two refreshes caused by unknown kids. */
  refreshMinS?: number;
  /** Keys are re-fetched after this long even without an unknown kid. */
  maxAgeS?: number;
  /** Cap on a discovery or JWKS document. */
  maxDocumentBytes?: number;
  now?: () => number;
}

export type KeyLookup =
  { ok: true; key: CryptoKey } | { ok: false; code: "unknown-key" | "algorithm"; reason: string };

export interface IssuerKeySource {
  readonly issuer: string;
  /** The key the header names; may refresh the set once if the kid is unknown. */
  keyFor(header: JWSHeaderParameters): Promise<KeyLookup>;
  /** How many times keys were loaded (for tests and metrics). */
  readonly loads: number;
}

const DEFAULT_REFRESH_MIN_S = 60;
const DEFAULT_MAX_AGE_S = 3600;
const DEFAULT_MAX_DOCUMENT_BYTES = 256 * 1024;
const FETCH_TIMEOUT_MS = 10_000;

export function createIssuerKeySource(
  issuer: string,
  opts: IssuerKeySourceOptions = {},
): IssuerKeySource {
  const now = opts.now ?? Date.now;
  const refreshMinMs = (opts.refreshMinS ?? DEFAULT_REFRESH_MIN_S) * 1000;
  const maxAgeMs = (opts.maxAgeS ?? DEFAULT_MAX_AGE_S) * 1000;
  const maxBytes = opts.maxDocumentBytes ?? DEFAULT_MAX_DOCUMENT_BYTES;
  let keys: ReturnType<typeof createLocalJWKSet> | undefined;
  let loadedAt = -Infinity;
  let loads = 0;
  let lastFailure = "";
  let pending: Promise<void> | undefined;

  async function loadJwks(): Promise<JSONWebKeySet> {
    if (opts.jwksFile !== undefined) {
      return parseJwks(readFileSync(opts.jwksFile, "utf8"));
    }
    if (!issuer.startsWith("https://")) {
      throw new TokenKeyError(`issuer ${issuer} is not an https URL and has no jwks_file`);
    }
    const base = issuer.replace(/\/+$/, "");
    const conf = JSON.parse(
      await fetchHttps(`${base}/.well-known/openid-configuration`, opts.ca, maxBytes),
    ) as { jwks_uri?: unknown };
    if (typeof conf.jwks_uri !== "string" || !conf.jwks_uri.startsWith("https://")) {
      throw new TokenKeyError(`issuer ${issuer} publishes no https jwks_uri`);
    }
    return parseJwks(await fetchHttps(conf.jwks_uri, opts.ca, maxBytes));
  }

  function reload(): Promise<void> {
    // One load at a time: concurrent unknown kids share it.
    pending ??= (async () => {
      loadedAt = now();
      try {
        keys = createLocalJWKSet(await loadJwks());
        loads++;
      } catch (e) {
        lastFailure = (e as Error).message;
        throw e;
      } finally {
        pending = undefined;
      }
    })();
    return pending;
  }

  async function lookup(header: JWSHeaderParameters): Promise<KeyLookup | "no-match"> {
    if (!keys) return "no-match";
    try {
      return { ok: true, key: (await keys(header)) as CryptoKey };
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (code === "ERR_JWKS_NO_MATCHING_KEY") return "no-match";
      if (code === "ERR_JWKS_MULTIPLE_MATCHING_KEYS") {
        return { ok: false, code: "unknown-key", reason: "several issuer keys match; name a kid" };
      }
      return {
        ok: false,
        code: "algorithm",
        reason: "the issuer's key does not fit the algorithm",
      };
    }
  }

  return {
    issuer,
    get loads() {
      return loads;
    },
    async keyFor(header) {
      const t = now();
      // An issuer whose keys could not be fetched is tried again once a refresh interval, not
      // per token: a flood of its tokens must not become a flood of outgoing connections.
      if (!keys && t - loadedAt < refreshMinMs) {
        return unknownKey(`no keys for issuer ${issuer}: ${lastFailure}`);
      }
      if (!keys || t - loadedAt > maxAgeMs) {
        try {
          await reload();
        } catch (e) {
          if (!keys) return unknownKey(`no keys for issuer ${issuer}: ${(e as Error).message}`);
        }
      }
      const first = await lookup(header);
      if (first !== "no-match") return first;
      if (now() - loadedAt < refreshMinMs) return unknownKey(describeKid(header));
      try {
        await reload();
      } catch {
        return unknownKey(describeKid(header));
      }
      const second = await lookup(header);
      return second === "no-match" ? unknownKey(describeKid(header)) : second;
    },
  };
}

function unknownKey(reason: string): KeyLookup {
  return { ok: false, code: "unknown-key", reason };
}

function describeKid(header: JWSHeaderParameters): string {
  const kid = typeof header.kid === "string" ? header.kid.slice(0, 64) : undefined;
  return kid === undefined
    ? "no issuer key fits the token"
    : `no issuer key has kid ${JSON.stringify(kid)}`;
}

/** A JWKS document; only public keys are kept so a leaked private member never becomes a verifier. */
export function parseJwks(text: string): JSONWebKeySet {
  const doc = JSON.parse(text) as { keys?: unknown };
  if (!Array.isArray(doc.keys)) throw new TokenKeyError("a JWKS needs a keys array");
  const keys = doc.keys.filter(
    (k): k is JSONWebKeySet["keys"][number] =>
      typeof k === "object" && k !== null && (k as { kty?: unknown }).kty !== "oct",
  );
  return { keys };
}

function fetchHttps(
  url: string,
  ca: string | Buffer | undefined,
  maxBytes: number,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: "GET", ca, rejectUnauthorized: true, timeout: FETCH_TIMEOUT_MS },
      (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          reject(new TokenKeyError(`${url} answered ${res.statusCode}`));
          return;
        }
        const parts: Buffer[] = [];
        let size = 0;
        res.on("data", (b: Buffer) => {
          size += b.length;
          if (size > maxBytes) {
            req.destroy(new TokenKeyError(`${url} sent more than ${maxBytes} bytes`));
            return;
          }
          parts.push(b);
        });
        res.on("end", () => resolve(Buffer.concat(parts).toString("utf8")));
        res.on("error", reject);
      },
    );
    req.on("timeout", () => req.destroy(new TokenKeyError(`${url} timed out`)));
    req.on("error", reject);
    req.end();
  });
}
