/**
 * What a client authenticates with: its certificate chain and key (a certificate, or a proxy
 * file holding the proxy, its key and the chain that issued it), or a bearer token sent at the
 * upgrade; and the CAs it trusts for servers.
 */
import { X509Certificate } from "node:crypto";
import { createSecureContext, type SecureContext } from "node:tls";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { UpdraftError } from "../common/errors.js";
import { chainNotAfter, pemCertificates } from "../security/cert-info.js";
import { readCredentialFile } from "../security/credential-file.js";
import { describeToken } from "../security/token-description.js";
import { TrustError } from "../security/trust-error.js";
import {
  FileTooLargeError,
  MAX_CREDENTIAL_FILE_BYTES,
  readBounded,
  readBoundedText,
} from "../common/bounded-read.js";

/** A client with nothing to authenticate with: no certificate and key, no token. */
export class ClientCredentialError extends UpdraftError {
  readonly code = "client-credential";
  override name = "ClientCredentialError";
}

export type ClientCredentialOptions = {
  /** A proxy file or a PEM file with certificate(s) and key. */
  credentialFile?: string;
  certPem?: string;
  keyPem?: string;
  /**
   * A bearer token sent as `Authorization: Bearer` at each (re)connection; a function is asked
   * again on every connection, so a renewed token is used from the next one on. With a token
   * and no certificate, the client presents no certificate.
   */
  bearerToken?: string | (() => string);
  /** IGTF trust directory (`<hash>.N` CA files) for the server's host certificate. */
  caDir: string;
};

/**
 * Loaded client credentials. Building the TLS context costs milliseconds, so it is built once
 * and reused by every connection, reconnects included; clients of several servers (a pilot
 * talking to a collector and schedds) can share one.
 */
export type ClientCredentials = {
  readonly secureContext: SecureContext;
  /** The token for the next connection, when the client authenticates with one. */
  readonly bearerToken?: () => string;
  /**
   * When the credential stops being valid: the certificate chain's earliest notAfter, or a fixed
   * token's `exp` (whichever is first), if there is one. A token given as a function may be
   * renewed, so its `exp` is not fixed here.
   */
  readonly notAfter?: Date;
  /** What the person or operator should do once `notAfter` has passed. */
  readonly renewHint?: string;
};

const PROXY_RENEW_HINT = "renew it (grid-proxy-init, voms-proxy-init or updraft proxy init)";
const TOKEN_RENEW_HINT =
  "get a new token (from your VO's token service, or updraft token issue in a private pool)";

const CA_FILE = /^[0-9a-f]{8}\.\d+$/;

export function loadClientCredentials(opts: ClientCredentialOptions): ClientCredentials {
  let certPem = opts.certPem;
  let keyPem = opts.keyPem;
  if (opts.credentialFile !== undefined) {
    const text = readBoundedText(opts.credentialFile, MAX_CREDENTIAL_FILE_BYTES, "latin1");
    const cred = readCredentialFile(text);
    // The whole chain goes out: a proxy only verifies together with the certificate above it.
    certPem = cred.chainPem.join("");
    keyPem = cred.keyPem;
  }
  const token = opts.bearerToken;
  const bearerToken = typeof token === "string" ? () => token : token;
  if ((!certPem || !keyPem) && !bearerToken) {
    throw new ClientCredentialError(
      "client credentials: give credentialFile, or certPem and keyPem, or a bearer token",
    );
  }
  const withCert = certPem && keyPem ? { cert: certPem, key: keyPem } : {};
  const certEnd = certPem ? pemNotAfter(certPem) : undefined;
  const tokenEnd = typeof token === "string" ? tokenNotAfter(token) : undefined;
  const notAfter =
    certEnd && tokenEnd ? (certEnd < tokenEnd ? certEnd : tokenEnd) : (certEnd ?? tokenEnd);
  const renewHint = notAfter === tokenEnd ? TOKEN_RENEW_HINT : PROXY_RENEW_HINT;
  return {
    secureContext: createSecureContext({
      ...withCert,
      ca: loadCaDir(opts.caDir),
      // TLS 1.3 is what our servers speak by default; 1.2 still reaches one configured for it.
      minVersion: "TLSv1.2",
    }),
    ...(bearerToken ? { bearerToken } : {}),
    ...(notAfter ? { notAfter, renewHint } : {}),
  };
}

/** A token's `exp`, read without verifying (the server verifies); undefined if it has none. */
function tokenNotAfter(token: string): Date | undefined {
  const d = describeToken(token);
  const exp = d.ok ? d.claims.exp : undefined;
  return typeof exp === "number" && Number.isFinite(exp) ? new Date(exp * 1000) : undefined;
}

/** When the certificate chain in `pem` stops being valid, if it holds one. */
function pemNotAfter(pem: string): Date | undefined {
  try {
    return chainNotAfter(pemCertificates(pem));
  } catch {
    // Not ours to judge here: the TLS context refuses a broken certificate.
    return undefined;
  }
}

function loadCaDir(dir: string): string[] {
  const cas: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    if (!CA_FILE.test(name)) continue;
    // Anyone who can write the trust directory can put a huge or endless file there.
    const path = join(dir, name);
    const data = readBounded(path, MAX_CREDENTIAL_FILE_BYTES);
    if (data === undefined) throw new FileTooLargeError(path, MAX_CREDENTIAL_FILE_BYTES);
    // IGTF directories hold PEM, but a DER file is accepted the same way the server does.
    const text = data.toString("latin1");
    cas.push(text.includes("-----BEGIN") ? text : new X509Certificate(data).toString());
  }
  if (cas.length === 0) throw new TrustError(`no CA certificates (<hash>.N files) in ${dir}`);
  return cas;
}
