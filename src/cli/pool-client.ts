/**
 * The command line's connection to a pool's collector: settings from flags, environment or the
 * user config file, one mTLS connection, and failures explained in terms of what to check.
 */
import type { Command } from "commander";
import { type CollectorClient, createCollectorClient } from "../collector/client.js";
import { createRpcClient, isWireError, type RpcClient, type WireError } from "../wire/index.js";
import { credentialHint, rpcCredential } from "./client-credential.js";
import {
  type ClientCredential,
  type ClientFlags,
  resolveClientSettings,
} from "./client-settings.js";
import { CliError } from "./errors.js";

const CONNECT_TIMEOUT_MS = 15_000;

/** The client flags every pool command takes. */
export function addPoolOptions(cmd: Command): Command {
  return cmd
    .option(
      "--pool <url>",
      "collector URL, wss://HOST:PORT (else $UPDRAFT_POOL or the user config)",
    )
    .option("--token <file>", "bearer token file (else $BEARER_TOKEN, $BEARER_TOKEN_FILE)")
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
  // Read here so that a missing file is named with the setting that points at it.
  const cred = rpcCredential(settings.credential);
  let rpc: RpcClient;
  try {
    rpc = createRpcClient({
      url,
      ...cred,
      caDir: settings.caDir,
      connectTimeoutMs: CONNECT_TIMEOUT_MS,
    });
  } catch (err) {
    if (err instanceof CliError) throw err;
    throw new CliError(
      `cannot load the credential or trust directory ${settings.caDir}: ${(err as Error).message}`,
    );
  }
  await waitConnected(rpc, url, settings.credential);
  return { url, rpc, collector: createCollectorClient(rpc), close: () => rpc.close() };
}

/** Resolve on the first connection; fail on the first refusal or error instead of retrying. */
async function waitConnected(
  rpc: RpcClient,
  url: string,
  credential: ClientCredential,
): Promise<void> {
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
        else if (s.type === "disconnected") reject(connectionError(url, s.error, credential));
      });
      const now = rpc.status;
      if (now.type === "connected") resolve();
      else if (now.type === "disconnected" && now.error?.details.cause === "credential-expired") {
        reject(new CliError(now.error.message));
      }
    });
  } catch (err) {
    await rpc.close();
    throw err;
  } finally {
    off();
    clearTimeout(timer);
  }
}

function connectionError(
  url: string,
  err: WireError | undefined,
  credential: ClientCredential,
): CliError {
  if (err?.code === "unauthenticated" || err?.code === "permission-denied") {
    return new CliError(
      `the collector at ${url} refused this credential (${err.message}); ${credentialHint(credential)}, ` +
        "and the collector's authorization rules",
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
  if (isWireError(err)) throw new CliError(`collector at ${url}: ${err.code}: ${err.message}`);
  throw err;
}
