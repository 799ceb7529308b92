/**
 * How user commands reach a schedd, as condor_q finds one: `--schedd URL`; `--name` with a URL,
 * or with a schedd's name looked up in the pool's Scheduler ads; `$UPDRAFT_SCHEDD`; else the
 * pool's only schedd, through the collector (`--pool`, `$UPDRAFT_POOL` or the user config).
 * Credentials and the trust directory come from resolveClientSettings like every other client.
 */
import { hasErrorCode } from "../common/errors.js";
import type { Command } from "commander";
import { scheddClient, type ScheddClient } from "../schedd/client.js";
import { createRpcClient } from "../wire/client.js";
import { isWireError, type WireError } from "../wire/errors.js";
import { AD_TYPE, COMMON, readScheduler, SCHEDULER } from "../ads/index.js";
import { ClassAd } from "../classad/index.js";
import { quoteText } from "../classad/unparse.js";
import { credentialHint, rpcCredential, tokenRefusal } from "./client-credential.js";
import {
  resolveClientSettings,
  type ClientCredential,
  type ClientFlags,
} from "./client-settings.js";
import { CliError } from "./errors.js";
import { openPool } from "./pool-client.js";

/**
 * The most a reply may hold; a request larger than the schedd's max_message_mb (4 MiB unless
 * configured) is refused by the schedd, which callError explains.
 */
const MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

export interface ScheddFlags extends ClientFlags {
  schedd?: string;
  name?: string;
}

/** Add the connection options every schedd command takes. */
export function withConnectionOptions(cmd: Command): Command {
  return cmd
    .option(
      "--schedd <url>",
      "schedd to talk to (wss://HOST:PORT/); default $UPDRAFT_SCHEDD, else the pool's schedd",
    )
    .option("--name <name>", "schedd by its name in the pool, or its URL (condor_q -name)")
    .option(
      "--pool <url>",
      "collector(s) to find the schedd through, commas between several (else $UPDRAFT_POOL)",
    )
    .option("--token <file>", "bearer token file (default $BEARER_TOKEN, $BEARER_TOKEN_FILE)")
    .option("--proxy <file>", "proxy credential (default $X509_USER_PROXY, /tmp/x509up_u<uid>)")
    .option("--cert <file>", "user certificate (with --key)")
    .option("--key <file>", "user key")
    .option("--ca-dir <dir>", "trust directory (default $X509_CERT_DIR)");
}

const isUrl = (s: string) => /^wss:\/\//.test(s);

/** The schedd's URL from the flags and environment, or through the pool's Scheduler ads. */
export async function locateSchedd(
  flags: ScheddFlags,
  env: NodeJS.ProcessEnv = process.env,
): Promise<string> {
  if (flags.schedd) return flags.schedd;
  if (flags.name && isUrl(flags.name)) return flags.name;
  if (!flags.name && env.UPDRAFT_SCHEDD) return env.UPDRAFT_SCHEDD;
  try {
    await resolveClientSettings(flags, env);
  } catch (err) {
    if (hasErrorCode(err, "cli-no-pool") && !flags.name) {
      throw new CliError(
        "no schedd given: pass --schedd wss://HOST:PORT/, set UPDRAFT_SCHEDD, or give a pool " +
          "(--pool or UPDRAFT_POOL) to find the schedd through its collector",
      );
    }
    throw new CliError((err as Error).message);
  }
  return scheddFromPool(flags, env);
}

/** A Scheduler ad's MyAddress: the one named `flags.name`, else the pool's only schedd. */
async function scheddFromPool(flags: ScheddFlags, env: NodeJS.ProcessEnv): Promise<string> {
  const { pool, found } = await scheddsInPool(flags, env);
  if (found.length === 0) {
    throw new CliError(
      flags.name
        ? `the pool at ${pool} has no schedd named '${flags.name}' (updraft status --type Scheduler lists them)`
        : `the pool at ${pool} advertises no schedd; is one running? (or pass --schedd URL)`,
    );
  }
  if (found.length > 1) {
    throw new CliError(
      `the pool at ${pool} has ${found.length} schedds (${found.map((f) => f.name).join(", ")}); ` +
        "choose one with --name NAME",
    );
  }
  const { name, address } = found[0]!;
  if (!address || !isUrl(address)) {
    throw new CliError(`the schedd '${name}' advertises no wss:// address (MyAddress)`);
  }
  return address;
}

/** The pool's schedds (the one named `flags.name` only, if given), from their Scheduler ads. */
export async function scheddsInPool(
  flags: ScheddFlags,
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ pool: string; found: { name: string; address: string | undefined }[] }> {
  const pool = await openPool(flags, env);
  let ads;
  try {
    ads = await pool.collector.query(
      {
        type: AD_TYPE.Scheduler,
        constraint: flags.name ? `${COMMON.Name} == ${quoteText(flags.name, '"')}` : "",
        projection: [COMMON.Name, SCHEDULER.MyAddress],
      },
      { deadlineMs: 30_000 },
    );
  } catch (err) {
    throw new CliError(
      `cannot look up the schedd in the pool at ${pool.url}: ${(err as Error).message}`,
    );
  } finally {
    await pool.close();
  }
  const found = ads.map((attrs) => {
    const ad = readScheduler(ClassAd.fromJSON(attrs));
    return { name: ad.name ?? "(unnamed)", address: ad.address };
  });
  return { pool: pool.url, found };
}

export interface Connection {
  url: string;
  client: ScheddClient;
  close(): Promise<void>;
}

/** Connect, failing fast with the URL and what to check when the schedd cannot be reached. */
export async function connectSchedd(flags: ScheddFlags): Promise<Connection> {
  const url = await locateSchedd(flags);
  // resolveClientSettings insists on a pool; schedd commands do not need one.
  let settings;
  try {
    settings = await resolveClientSettings({ ...flags, pool: flags.pool ?? "wss://unused/" });
  } catch (err) {
    throw new CliError((err as Error).message);
  }
  const cred = rpcCredential(settings.credential);
  let rpc;
  try {
    rpc = createRpcClient({
      url,
      caDir: settings.caDir,
      connectTimeoutMs: 10_000,
      maxFrameSize: MAX_MESSAGE_BYTES,
      ...cred,
    });
  } catch (err) {
    throw new CliError(`cannot set up a connection to ${url}: ${(err as Error).message}`);
  }
  await new Promise<void>((resolve, reject) => {
    const off = rpc.onStatus((s) => {
      if (s.type === "connected") {
        off();
        resolve();
      } else if (s.type === "disconnected") {
        off();
        void rpc.close();
        reject(connectionError(url, s.error, settings.credential));
      }
    });
    const now = rpc.status;
    if (now.type === "connected") {
      off();
      resolve();
    } else if (now.type === "disconnected" && now.error?.details.cause === "credential-expired") {
      off();
      void rpc.close();
      reject(new CliError(now.error.message));
    }
  });
  return { url, client: scheddClient(rpc), close: () => rpc.close() };
}

function connectionError(
  url: string,
  err: WireError | undefined,
  credential: ClientCredential,
): CliError {
  const refused = tokenRefusal(`the schedd at ${url}`, credential, err);
  if (refused) return new CliError(refused);
  if (err?.code === "unauthenticated") {
    return new CliError(
      `the schedd at ${url} did not accept your credential (${err.message}); ` +
        credentialHint(credential),
    );
  }
  if (err?.code === "permission-denied") {
    return new CliError(`the schedd at ${url} refused you: ${err.message}`);
  }
  return new CliError(
    `cannot reach the schedd at ${url}${err ? ` (${err.message})` : ""}; ` +
      "check that it is running, the host and port are right (--schedd or UPDRAFT_SCHEDD), " +
      "and that the trust directory (--ca-dir or X509_CERT_DIR) holds its CA",
  );
}

/** A failed call as a one-line message naming the schedd. */
export function callError(url: string, what: string, err: unknown): CliError {
  if (err instanceof CliError) return err;
  if (isWireError(err) && err.details.cause === "frame-too-large") {
    return new CliError(
      `${what} at ${url} failed: the request is larger than the schedd's message limit ` +
        "(max_message_mb, 4 MiB by default); split it (a cluster into several submits) " +
        "or ask the operator to raise max_message_mb",
    );
  }
  if (isWireError(err))
    return new CliError(`${what} at ${url} failed (${err.code}): ${err.message}`);
  return new CliError(`${what} at ${url} failed: ${(err as Error).message}`);
}

/** Run `fn` with a connection, closing it after and turning wire errors into CLI errors. */
export async function withSchedd<T>(
  flags: ScheddFlags,
  what: string,
  fn: (c: Connection) => Promise<T>,
): Promise<T> {
  const conn = await connectSchedd(flags);
  try {
    return await fn(conn);
  } catch (err) {
    throw callError(conn.url, what, err);
  } finally {
    await conn.close();
  }
}
