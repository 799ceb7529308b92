/**
 * A command's resolved credential as RPC client options: a proxy file, a certificate and key, or
 * a bearer token sent at the upgrade. A token is read and looked at before connecting, so an
 * expired or unreadable one is reported with where it came from instead of as a refusal.
 */
import { statSync } from "node:fs";
import { describeToken } from "../security/token-description.js";
import type { ClientCredential } from "./client-settings.js";
import { CliError } from "./errors.js";
import { MAX_CREDENTIAL_FILE_BYTES, readBoundedText } from "../common/bounded-read.js";

/** The largest `tokens.leeway_s` a daemon may set, so no daemon would take such a token yet. */
const MAX_LEEWAY_MS = 600_000;

export type RpcCredential =
  { credentialFile: string } | { certPem: string; keyPem: string } | { bearerToken: string };

export function rpcCredential(c: ClientCredential, now = Date.now()): RpcCredential {
  if ("proxyFile" in c) {
    readable(c.proxyFile, "proxy", "--proxy or X509_USER_PROXY");
    privateToOwner(c.proxyFile, "proxy");
    return { credentialFile: c.proxyFile };
  }
  if ("certFile" in c) {
    return {
      certPem: readable(c.certFile, "certificate", "--cert or X509_USER_CERT"),
      keyPem: readPrivate(c.keyFile, "private key", "--key or X509_USER_KEY"),
    };
  }
  const where = tokenSource(c);
  const token =
    "tokenFile" in c
      ? readable(c.tokenFile, "bearer token", "--token or BEARER_TOKEN_FILE").trim()
      : c.tokenText;
  const info = describeToken(token, now);
  if (!info.ok) throw new CliError(`the bearer token in ${where} is not a token: ${info.reason}`);
  if (info.expired) {
    const exp = new Date((info.claims.exp as number) * 1000).toISOString();
    throw new CliError(
      `the bearer token in ${where} expired at ${exp}; get a new one (from your VO's token ` +
        "service, or updraft token issue in a private pool) and try again",
    );
  }
  // Beyond any daemon's leeway (at most 600 s): it would be refused as not yet valid.
  const nbf = info.claims.nbf;
  if (typeof nbf === "number" && nbf * 1000 > now + MAX_LEEWAY_MS) {
    throw new CliError(
      `the bearer token in ${where} is not yet valid: it starts at ` +
        `${new Date(nbf * 1000).toISOString()}; check this machine's clock, or wait until then`,
    );
  }
  return { bearerToken: token };
}

/** Where a token credential was found, for messages: `FILE (--token)` or `$BEARER_TOKEN`. */
function tokenSource(
  c: { tokenFile: string; source: string } | { tokenText: string; source: string },
) {
  return "tokenFile" in c ? `${c.tokenFile} (${c.source})` : `$${c.source}`;
}

/**
 * A server's refusal of `c` as one line: a refused bearer token (the wire client read the
 * server's challenge) with where it was found and the check that failed; else undefined, and
 * the caller explains the refusal with credentialHint.
 */
export function tokenRefusal(
  service: string,
  c: ClientCredential,
  err: { message: string; details: Readonly<Record<string, string>> } | undefined,
): string | undefined {
  if (!err?.details.tokenCheck || !("tokenFile" in c || "tokenText" in c)) return undefined;
  const info = "tokenFile" in c ? ` (updraft token info ${c.tokenFile} shows its claims)` : "";
  return `${service} refused the bearer token in ${tokenSource(c)}: ${err.message}${info}`;
}

/** What to check when a server refuses `c`, in words for the person at the terminal. */
export function credentialHint(c: ClientCredential): string {
  if ("tokenFile" in c || "tokenText" in c) {
    const file = "tokenFile" in c ? c.tokenFile : "";
    return (
      `check the token (updraft token info ${file}`.trimEnd() +
      "): its issuer must be trusted there, its audience must name the service, and its " +
      "scopes must allow what you asked"
    );
  }
  return "check that your proxy is valid (updraft proxy info) and issued by a CA the service trusts";
}

/**
 * A proxy or private key others can read or write is refused, as Globus does ("has bad
 * permissions"): it may already be copied, and using it would hide that.
 */
function privateToOwner(file: string, what: string): void {
  let mode: number;
  try {
    mode = statSync(file).mode & 0o777;
  } catch {
    return; // readable() reports a missing file with its hint
  }
  if ((mode & 0o077) !== 0) {
    throw new CliError(
      `the ${what} ${file} is open to other users (mode ${mode.toString(8).padStart(4, "0")}); ` +
        `a credential must be private to you: run chmod 600 ${file} (and get a new one if ` +
        "others may have copied it)",
    );
  }
}

function readPrivate(file: string, what: string, hint: string): string {
  privateToOwner(file, what);
  return readable(file, what, hint);
}

function readable(file: string, what: string, hint: string): string {
  try {
    return readBoundedText(file, MAX_CREDENTIAL_FILE_BYTES, "latin1");
  } catch (err) {
    throw new CliError(`cannot read the ${what} ${file}: ${(err as Error).message} (set ${hint})`);
  }
}
