/**
 * The command line's connection to a pool's collector: settings from flags, environment or the
 * user config file, one mTLS connection, and failures explained in terms of what to check.
 */
import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { type CollectorClient, createCollectorClient } from "../collector/client.js";
import { createRpcClient, type RpcClient, WireError } from "../wire/index.js";
import { type ClientFlags, resolveClientSettings } from "./client-settings.js";
import { CliError } from "./errors.js";

const CONNECT_TIMEOUT_MS = 15_000;

/** The client flags every pool command takes. */
export function addPoolOptions(cmd: Command): Command {
  return cmd
    .option(
      "--pool <url>",
      "collector URL, wss://HOST:PORT (else $UPDRAFT_POOL or the user config)",
    )
    .option("--proxy <file>", "proxy credential (else $X509_USER_PROXY)")
    .option("--cert <file>", "certificate (else $X509_USER_CERT), with --key")
    .option("--key <file>", "private key (else $X509_USER_KEY)")
    .option(
      "--ca-dir <dir>",
      "trust directory (else $X509_CERT_DIR or /etc/grid-security/certificates)",
    );
}

export interface PoolConnection {
  url: string;
  rpc: RpcClient;
  collector: CollectorClient;
  close(): Promise<void>;
}

function readPem(file: string, what: string, envHint: string): string {
  try {
    return readFileSync(file, "latin1");
  } catch (err) {
    throw new CliError(
      `cannot read the ${what} ${file}: ${(err as Error).message} (set ${envHint})`,
    );
  }
}

export async function openPool(
  flags: ClientFlags,
  env: NodeJS.ProcessEnv = process.env,
): Promise<PoolConnection> {
  let settings;
  try {
    settings = resolveClientSettings(flags, env);
  } catch (err) {
    throw new CliError((err as Error).message);
  }
  const url = settings.pool;
  if (!/^wss:\/\//.test(url)) {
    throw new CliError(`pool URL '${url}' must start with wss:// (the collector only speaks TLS)`);
  }
  const cred = settings.credential;
  // Checked here so that a missing file is named with the setting that points at it.
  if ("proxyFile" in cred) readPem(cred.proxyFile, "proxy", "--proxy or X509_USER_PROXY");
  let rpc: RpcClient;
  try {
    rpc =
      "proxyFile" in cred
        ? createRpcClient({
            url,
            credentialFile: cred.proxyFile,
            caDir: settings.caDir,
            connectTimeoutMs: CONNECT_TIMEOUT_MS,
          })
        : createRpcClient({
            url,
            certPem: readPem(cred.certFile, "certificate", "--cert or X509_USER_CERT"),
            keyPem: readPem(cred.keyFile, "private key", "--key or X509_USER_KEY"),
            caDir: settings.caDir,
            connectTimeoutMs: CONNECT_TIMEOUT_MS,
          });
  } catch (err) {
    if (err instanceof CliError) throw err;
    throw new CliError(
      `cannot load the credential or trust directory ${settings.caDir}: ${(err as Error).message}`,
    );
  }
  await waitConnected(rpc, url);
  return { url, rpc, collector: createCollectorClient(rpc), close: () => rpc.close() };
}

/** Resolve on the first connection; fail on the first refusal or error instead of retrying. */
async function waitConnected(rpc: RpcClient, url: string): Promise<void> {
  let off: () => void = () => undefined;
  let timer: NodeJS.Timeout | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new CliError(
              `no answer from the collector at ${url} within ${CONNECT_TIMEOUT_MS / 1000} s; check the URL and that the collector runs`,
            ),
          ),
        CONNECT_TIMEOUT_MS,
      );
      off = rpc.onStatus((s) => {
        if (s.type === "connected") resolve();
        else if (s.type === "disconnected") reject(connectionError(url, s.error));
      });
      if (rpc.status.type === "connected") resolve();
    });
  } catch (err) {
    await rpc.close();
    throw err;
  } finally {
    off();
    clearTimeout(timer);
  }
}

function connectionError(url: string, err: WireError | undefined): CliError {
  if (err?.code === "unauthenticated" || err?.code === "permission-denied") {
    return new CliError(
      `the collector at ${url} refused this credential (${err.message}); check X509_USER_PROXY or --proxy, ` +
        "the trust directory, and the collector's authorization rules",
    );
  }
  const why = err ? err.message : "connection failed";
  return new CliError(
    `cannot connect to the collector at ${url} (${why}); check that it runs, that the URL (--pool or ` +
      "UPDRAFT_POOL) is right, and that X509_CERT_DIR trusts its host certificate",
  );
}

/** A failed call as a one-line message naming the collector. */
export function callError(url: string, err: unknown): never {
  if (err instanceof WireError)
    throw new CliError(`collector at ${url}: ${err.code}: ${err.message}`);
  throw err;
}
