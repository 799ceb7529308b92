/**
 * RPC servers and clients made from the shared configuration blocks (`tls`, `authorization`,
 * `listen`), so that no daemon reads certificate files itself: the files are read here, once,
 * with an error that names the configuration key when one cannot be read.
 */
import { readFileSync, statSync } from "node:fs";
import { parseCertificate, pemCertificates } from "../security/cert-info.js";
import { createAuthorizer, type AuthzConfig } from "../security/authz.js";
import type { CaNamespaceMode, CrlExpiredMode } from "../security/trust.js";
import { loadClientCredentials, type ClientCredentials } from "../wire/client-tls.js";
import { createRpcClient, type RpcClient, type RpcClientOptions } from "../wire/client.js";
import { createRpcServer, type RpcServer, type RpcServerOptions } from "../wire/server.js";
import { UpdraftError } from "./errors.js";

/**
 * A file a `tls` block names cannot be used: missing, unreadable, open to others, or holding no
 * certificate. The message names the configuration key and what to do.
 */
export class TlsFileError extends UpdraftError {
  readonly code = "tls-file";
  override name = "TlsFileError";
}

/** The `tls` block's keys every daemon has (see tlsBlock in config-blocks.ts). */
export interface TlsConfig {
  readonly cert_file: string;
  readonly key_file: string;
  readonly trust_dir: string;
  readonly min_version?: "1.2" | "1.3";
  readonly ca_namespaces?: CaNamespaceMode;
  readonly crl_expired?: CrlExpiredMode;
}

/** A daemon's certificate and key as read from its `tls` block, and who they say it is. */
export interface TlsMaterial {
  readonly certPem: string;
  readonly keyPem: string;
  readonly trustDir: string;
  /** The leaf certificate's subject, slash form: the identity peers see. */
  readonly identity: string;
  readonly minTlsVersion: "TLSv1.2" | "TLSv1.3";
  readonly caNamespaces: CaNamespaceMode;
  readonly crlExpired: CrlExpiredMode;
}

/** Read a file a `tls` block names; `key` is its configuration key, named if it cannot be read. */
export function readTlsFile(file: string, key: string): string {
  try {
    return readFileSync(file, "latin1");
  } catch (err) {
    throw new TlsFileError(
      `${key} ${file}: ${(err as Error).message} (check the path and its mode)`,
    );
  }
}

/**
 * A daemon's private key, refused when others may read or write it, as Globus refuses a host or
 * user key with "bad permissions": a key others can read may already be copied, and serving with
 * it would hide that.
 */
export function readPrivateTlsFile(file: string, key: string): string {
  let mode: number;
  try {
    mode = statSync(file).mode & 0o777;
  } catch (err) {
    throw new TlsFileError(
      `${key} ${file}: ${(err as Error).message} (check the path and its mode)`,
    );
  }
  if ((mode & 0o077) !== 0) {
    throw new TlsFileError(
      `${key} ${file} can be read or written by others (mode ${mode.toString(8).padStart(4, "0")}); chmod 600 ${file}`,
    );
  }
  return readTlsFile(file, key);
}

/** Read the certificate and key the `tls` block at `at` names (`staging.tls` for a second one). */
export function loadTlsMaterial(tls: TlsConfig, at = "tls"): TlsMaterial {
  const certPem = readTlsFile(tls.cert_file, `${at}.cert_file`);
  const keyPem = readPrivateTlsFile(tls.key_file, `${at}.key_file`);
  const [leaf] = pemCertificates(certPem);
  if (!leaf) throw new TlsFileError(`${at}.cert_file ${tls.cert_file}: no PEM certificate in it`);
  return {
    certPem,
    keyPem,
    trustDir: tls.trust_dir,
    identity: parseCertificate(leaf).subject,
    minTlsVersion: tls.min_version === "1.2" ? "TLSv1.2" : "TLSv1.3",
    caNamespaces: tls.ca_namespaces ?? "enforce",
    crlExpired: tls.crl_expired ?? "refuse",
  };
}

/**
 * A second listener's certificate and key (see listenerTlsBlock): its own block's when it has
 * one, else the daemon's; peers are verified against the daemon's trust directory, with the
 * daemon's TLS version, CA namespace and expired-CRL modes, either way.
 */
export function listenerTlsMaterial(
  block: { readonly cert_file: string; readonly key_file: string } | undefined,
  daemon: TlsMaterial,
  at: string,
): TlsMaterial {
  if (!block) return daemon;
  const own = loadTlsMaterial({ ...block, trust_dir: daemon.trustDir }, at);
  return {
    ...own,
    minTlsVersion: daemon.minTlsVersion,
    caNamespaces: daemon.caNamespaces,
    crlExpired: daemon.crlExpired,
  };
}

export type BlockServerOptions = Omit<
  RpcServerOptions,
  "certFile" | "keyFile" | "certPem" | "keyPem" | "trustDir" | "authorizer" | "host" | "port"
> & {
  listen: { readonly host: string; readonly port: number };
  tls: TlsMaterial;
  authorization: AuthzConfig;
};

/** An RPC server on `listen`, with the `tls` block's certificate and the `authorization` rules. */
export function rpcServerFromBlocks(opts: BlockServerOptions): RpcServer {
  const { listen, tls, authorization, ...rest } = opts;
  return createRpcServer({
    ...rest,
    host: listen.host,
    port: listen.port,
    certPem: tls.certPem,
    keyPem: tls.keyPem,
    trustDir: tls.trustDir,
    minTlsVersion: tls.minTlsVersion,
    caNamespaces: tls.caNamespaces,
    crlExpired: tls.crlExpired,
    authorizer: createAuthorizer(authorization),
  });
}

/** Client credentials from the `tls` block, built once and shared by every client. */
export function clientCredentialsFromTls(tls: TlsMaterial): ClientCredentials {
  return loadClientCredentials({ certPem: tls.certPem, keyPem: tls.keyPem, caDir: tls.trustDir });
}

/** An RPC client to `url` with the `tls` block's certificate. */
export function rpcClientFromTls(
  tls: TlsMaterial | ClientCredentials,
  opts: Omit<RpcClientOptions, "credentials" | "credentialFile" | "certPem" | "keyPem" | "caDir">,
): RpcClient {
  const credentials = "secureContext" in tls ? tls : clientCredentialsFromTls(tls);
  return createRpcClient({ ...opts, credentials });
}
