/**
 * The command line's connection to a pool's collector: settings from flags, environment or the
 * user config file, one mTLS connection, and failures explained in terms of what to check.
 */
import type { Command } from "commander";
import { type CollectorSet, connectCollectorSet } from "../collector/collector-set.js";
import { createRpcClient, type RpcClient } from "../wire/client.js";
import { isWireError, type WireError } from "../wire/errors.js";
import { credentialHint, rpcCredential, tokenRefusal } from "./client-credential.js";
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
      "collector URL, wss://HOST:PORT, or several separated by commas (else $UPDRAFT_POOL or the user config)",
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
  /** The collector that answered first; messages about the pool name it. */
  url: string;
  /** Every collector of the pool, in the order given. */
  urls: readonly string[];
  /** The pool's collectors as one: reads from one that is up, failing over; writes to all. */
  collector: CollectorSet;
  close(): Promise<void>;
}

/**
 * The collectors a pool setting names: one URL, or several separated by commas or spaces, as
 * HTCondor's COLLECTOR_HOST lists a highly available pool's collectors.
 */
export function poolUrls(pool: string): string[] {
  const urls = pool.split(/[\s,]+/).filter((u) => u !== "");
  if (urls.length === 0) {
    throw new CliError(`the pool '${pool}' names no collector; give wss://HOST:PORT[,wss://...]`);
  }
  for (const url of urls) {
    if (!/^wss:\/\//.test(url)) {
      throw new CliError(
        `pool URL '${url}' must start with wss:// (the collector only speaks TLS)`,
      );
    }
  }
  return urls;
}

/**
 * Connect to the pool's collectors: the command goes on with the first that answers, as
 * condor_status goes down its COLLECTOR_HOST list, and fails only when every one refused or
 * could not be reached, saying why for each.
 */
export async function openPool(
  flags: ClientFlags,
  env: NodeJS.ProcessEnv = process.env,
): Promise<PoolConnection> {
  let settings;
  try {
    settings = await resolveClientSettings(flags, env);
  } catch (err) {
    throw new CliError((err as Error).message);
  }
  const urls = poolUrls(settings.pool);
  // Read here so that a missing file is named with the setting that points at it.
  const cred = rpcCredential(settings.credential);
  const rpcs: RpcClient[] = [];
  const connect = (url: string): RpcClient => {
    try {
      const rpc = createRpcClient({
        url,
        ...cred,
        caDir: settings.caDir,
        connectTimeoutMs: CONNECT_TIMEOUT_MS,
      });
      rpcs.push(rpc);
      return rpc;
    } catch (err) {
      if (err instanceof CliError) throw err;
      throw new CliError(
        `cannot load the credential or trust directory ${settings.caDir}: ${(err as Error).message}`,
      );
    }
  };
  let set;
  try {
    set = connectCollectorSet(urls, connect);
  } catch (err) {
    await Promise.all(rpcs.map((r) => r.close()));
    throw err;
  }
  try {
    const first = await firstConnected(urls, rpcs, settings.credential);
    return { url: first, urls, collector: set.collector, close: () => set.close() };
  } catch (err) {
    await set.close();
    throw err;
  }
}

/** The first collector to connect; fails once each one failed or refused, or at the timeout. */
async function firstConnected(
  urls: readonly string[],
  rpcs: readonly RpcClient[],
  credential: ClientCredential,
): Promise<string> {
  const offs: (() => void)[] = [];
  let timer: NodeJS.Timeout | undefined;
  try {
    return await new Promise<string>((resolve, reject) => {
      const failures = new Map<number, CliError>();
      const failed = (i: number, err: CliError) => {
        if (!failures.has(i)) failures.set(i, err);
        if (failures.size < urls.length) return;
        if (urls.length === 1) reject(err);
        else {
          const each = [...failures.entries()].sort(([a], [b]) => a - b).map(([, e]) => e.message);
          reject(new CliError(`no collector of the pool answered:\n  ${each.join("\n  ")}`));
        }
      };
      timer = setTimeout(
        () =>
          reject(
            new CliError(
              `no answer from the collector${urls.length > 1 ? "s" : ""} at ${urls.join(", ")} within ${CONNECT_TIMEOUT_MS / 1000} s; check the URL and that the collector runs`,
            ),
          ),
        CONNECT_TIMEOUT_MS,
      );
      rpcs.forEach((rpc, i) => {
        const url = urls[i]!;
        offs.push(
          rpc.onStatus((s) => {
            if (s.type === "connected") resolve(url);
            else if (s.type === "disconnected")
              failed(i, connectionError(url, s.error, credential));
          }),
        );
        const now = rpc.status;
        if (now.type === "connected") resolve(url);
        else if (now.type === "disconnected" && now.error?.details.cause === "credential-expired") {
          failed(i, new CliError(now.error.message));
        }
      });
    });
  } finally {
    for (const off of offs) off();
    clearTimeout(timer);
  }
}

function connectionError(
  url: string,
  err: WireError | undefined,
  credential: ClientCredential,
): CliError {
  const refused = tokenRefusal(`the collector at ${url}`, credential, err);
  if (refused) return new CliError(refused);
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
