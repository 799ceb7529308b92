/**
 * A command's resolved credential as RPC client options: a proxy file, a certificate and key, or
 * a bearer token sent at the upgrade. A token is read and looked at before connecting, so an
 * expired or unreadable one is reported with where it came from instead of as a refusal.
 */
import { readFileSync } from "node:fs";
import { describeToken } from "../security/token-issuer.js";
import type { ClientCredential } from "./client-settings.js";
import { CliError } from "./errors.js";

export type RpcCredential =
  { credentialFile: string } | { certPem: string; keyPem: string } | { bearerToken: string };

export function rpcCredential(c: ClientCredential, now = Date.now()): RpcCredential {
  if ("proxyFile" in c) {
    readable(c.proxyFile, "proxy", "--proxy or X509_USER_PROXY");
    return { credentialFile: c.proxyFile };
  }
  if ("certFile" in c) {
    return {
      certPem: readable(c.certFile, "certificate", "--cert or X509_USER_CERT"),
      keyPem: readable(c.keyFile, "private key", "--key or X509_USER_KEY"),
    };
  }
  const where = "tokenFile" in c ? `${c.tokenFile} (${c.source})` : `$${c.source}`;
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
  return { bearerToken: token };
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

function readable(file: string, what: string, hint: string): string {
  try {
    return readFileSync(file, "latin1");
  } catch (err) {
    throw new CliError(`cannot read the ${what} ${file}: ${(err as Error).message} (set ${hint})`);
  }
}
