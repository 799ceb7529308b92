/**
 * What a client authenticates with: its certificate chain and key (a certificate, or a proxy
 * file holding the proxy, its key and the chain that issued it), or a bearer token sent at the
 * upgrade; and the CAs it trusts for servers.
 */
import { X509Certificate } from "node:crypto";
import { createSecureContext, type SecureContext } from "node:tls";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { chainNotAfter, pemCertificates } from "../security/cert-info.js";
import { readCredentialFile } from "../security/proxy.js";

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
  /** When the certificate chain stops being valid (its earliest notAfter), if there is one. */
  readonly notAfter?: Date;
};

const CA_FILE = /^[0-9a-f]{8}\.\d+$/;

export function loadClientCredentials(opts: ClientCredentialOptions): ClientCredentials {
  let certPem = opts.certPem;
  let keyPem = opts.keyPem;
  if (opts.credentialFile !== undefined) {
    const cred = readCredentialFile(readFileSync(opts.credentialFile, "latin1"));
    // The whole chain goes out: a proxy only verifies together with the certificate above it.
    certPem = cred.chainPem.join("");
    keyPem = cred.keyPem;
  }
  const token = opts.bearerToken;
  const bearerToken = typeof token === "string" ? () => token : token;
  if ((!certPem || !keyPem) && !bearerToken) {
    throw new Error(
      "client credentials: give credentialFile, or certPem and keyPem, or a bearer token",
    );
  }
  const withCert = certPem && keyPem ? { cert: certPem, key: keyPem } : {};
  const notAfter = certPem ? pemNotAfter(certPem) : undefined;
  return {
    secureContext: createSecureContext({
      ...withCert,
      ca: loadCaDir(opts.caDir),
      // TLS 1.3 is what our servers speak by default; 1.2 still reaches one configured for it.
      minVersion: "TLSv1.2",
    }),
    ...(bearerToken ? { bearerToken } : {}),
    ...(notAfter ? { notAfter } : {}),
  };
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
    const data = readFileSync(join(dir, name));
    // IGTF directories hold PEM, but a DER file is accepted the same way the server does.
    const text = data.toString("latin1");
    cas.push(text.includes("-----BEGIN") ? text : new X509Certificate(data).toString());
  }
  if (cas.length === 0) throw new Error(`no CA certificates (<hash>.N files) in ${dir}`);
  return cas;
}
