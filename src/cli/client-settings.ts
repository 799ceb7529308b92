import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { UpdraftError } from "../common/errors.js";
import type { UserConfig } from "./user-config.js";

/** Where a command-line client connects and with which credential. */
export interface ClientSettings {
  /**
   * `wss://host:port` of the pool's collector, or several separated by commas (a highly
   * available pool); poolUrls splits it.
   */
  pool: string;
  /**
   * A proxy file (certificate chain and key in one file), a certificate and a key file, or a
   * bearer token (from a file, or the text of `$BEARER_TOKEN`). `source` says where it was found.
   */
  credential: ClientCredential;
  /** Trust directory in the grid layout (`<hash>.0` CA files). */
  caDir: string;
  /**
   * The WMS collector(s), where factories' GlideFactory and frontends' GlideResource ads live
   * when that is not the pool's collector (glideinWMS's factory pool); undefined: the pool's.
   */
  wmsPool?: string;
}

export type ClientCredential =
  | { proxyFile: string }
  | { certFile: string; keyFile: string }
  | { tokenFile: string; source: string }
  | { tokenText: string; source: string };

export interface ClientFlags {
  pool?: string;
  token?: string;
  proxy?: string;
  cert?: string;
  key?: string;
  caDir?: string;
  wmsPool?: string;
}

/** No collector URL in the flags, the environment or the user config. */
export class NoPoolError extends UpdraftError {
  readonly code = "cli-no-pool";
  override name = "NoPoolError";
}

/** `$UPDRAFT_CONFIG`, else `~/.config/updraft/client.yaml`. */
export function userConfigPath(env: NodeJS.ProcessEnv): string {
  return env.UPDRAFT_CONFIG ?? join(env.HOME ?? homedir(), ".config", "updraft", "client.yaml");
}

/**
 * Resolve client settings from, in order of precedence, command-line flags, the environment
 * (`UPDRAFT_POOL`, `UPDRAFT_WMS_POOL`, `X509_CERT_DIR`), the user config file, and the grid
 * defaults. Throws an Error that says what to set when no pool is known. The credential is the first of: `--token`,
 * `--proxy`, `--cert`; `$BEARER_TOKEN`, `$BEARER_TOKEN_FILE`; `$X509_USER_PROXY`,
 * `$X509_USER_CERT`; the user config's `token_file`, `proxy`, `cert`; the WLCG Bearer Token
 * Discovery files `$XDG_RUNTIME_DIR/bt_u<uid>` and `/tmp/bt_u<uid>`; the grid default files
 * `/tmp/x509up_u<uid>` and `~/.globus/user{cert,key}.pem`.
 */
export async function resolveClientSettings(
  flags: ClientFlags,
  env: NodeJS.ProcessEnv = process.env,
  fileExists: (path: string) => boolean = existsSync,
): Promise<ClientSettings> {
  const file = userConfigPath(env);
  const saved: UserConfig = fileExists(file)
    ? (await import("./user-config.js")).readUserConfig(file)
    : {};
  const home = env.HOME ?? homedir();

  const pool = flags.pool ?? env.UPDRAFT_POOL ?? saved.pool;
  if (!pool) {
    throw new NoPoolError(
      "no pool given: pass --pool wss://HOST:PORT, set UPDRAFT_POOL, or put 'pool:' in " + file,
    );
  }

  const uid = process.getuid?.() ?? 0;
  const discovered = [env.XDG_RUNTIME_DIR ? join(env.XDG_RUNTIME_DIR, `bt_u${uid}`) : undefined]
    .concat(`/tmp/bt_u${uid}`)
    .find((f): f is string => f !== undefined && fileExists(f));
  let credential: ClientCredential;
  if (flags.token) credential = { tokenFile: flags.token, source: "--token" };
  else if (flags.proxy) credential = { proxyFile: flags.proxy };
  else if (flags.cert) credential = { certFile: flags.cert, keyFile: flags.key ?? flags.cert };
  else if (env.BEARER_TOKEN?.trim())
    credential = { tokenText: env.BEARER_TOKEN.trim(), source: "BEARER_TOKEN" };
  else if (env.BEARER_TOKEN_FILE)
    credential = { tokenFile: env.BEARER_TOKEN_FILE, source: "BEARER_TOKEN_FILE" };
  else if (env.X509_USER_PROXY) credential = { proxyFile: env.X509_USER_PROXY };
  else if (env.X509_USER_CERT)
    credential = { certFile: env.X509_USER_CERT, keyFile: env.X509_USER_KEY ?? env.X509_USER_CERT };
  else if (saved.token_file) credential = { tokenFile: saved.token_file, source: file };
  else if (saved.proxy) credential = { proxyFile: saved.proxy };
  else if (saved.cert) credential = { certFile: saved.cert, keyFile: saved.key ?? saved.cert };
  else if (discovered) credential = { tokenFile: discovered, source: "token discovery" };
  else {
    const defaultProxy = `/tmp/x509up_u${uid}`;
    credential = fileExists(defaultProxy)
      ? { proxyFile: defaultProxy }
      : {
          certFile: join(home, ".globus", "usercert.pem"),
          keyFile: join(home, ".globus", "userkey.pem"),
        };
  }

  const caDir =
    flags.caDir ?? env.X509_CERT_DIR ?? saved.ca_dir ?? "/etc/grid-security/certificates";
  const wmsPool = flags.wmsPool ?? env.UPDRAFT_WMS_POOL ?? saved.wms_pool;
  return { pool, credential, caDir, ...(wmsPool ? { wmsPool } : {}) };
}
