import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { z } from "zod";
import { loadConfigFile } from "../common/config.js";

/** Where a command-line client connects and with which credential. */
export interface ClientSettings {
  /** `wss://host:port` of the collector (the pool). */
  pool: string;
  /** A proxy file (certificate chain and key in one file), or a certificate and a key file. */
  credential: { proxyFile: string } | { certFile: string; keyFile: string };
  /** Trust directory in the grid layout (`<hash>.0` CA files). */
  caDir: string;
}

export interface ClientFlags {
  pool?: string;
  proxy?: string;
  cert?: string;
  key?: string;
  caDir?: string;
}

const userConfigSchema = z
  .object({
    pool: z.string().optional(),
    proxy: z.string().optional(),
    cert: z.string().optional(),
    key: z.string().optional(),
    ca_dir: z.string().optional(),
  })
  .strict();

/** No collector URL in the flags, the environment or the user config. */
export class NoPoolError extends Error {
  override name = "NoPoolError";
}

/** `$UPDRAFT_CONFIG`, else `~/.config/updraft/client.yaml`. */
export function userConfigPath(env: NodeJS.ProcessEnv): string {
  return env.UPDRAFT_CONFIG ?? join(env.HOME ?? homedir(), ".config", "updraft", "client.yaml");
}

/**
 * Resolve client settings from, in order of precedence, command-line flags, the environment
 * (`UPDRAFT_POOL`, `X509_USER_PROXY`, `X509_USER_CERT`/`X509_USER_KEY`, `X509_CERT_DIR`), the user
 * config file, and the grid defaults (`/tmp/x509up_u<uid>`, `~/.globus/user{cert,key}.pem`,
 * `/etc/grid-security/certificates`). Throws an Error that says what to set when no pool is known.
 */
export function resolveClientSettings(
  flags: ClientFlags,
  env: NodeJS.ProcessEnv = process.env,
  fileExists: (path: string) => boolean = existsSync,
): ClientSettings {
  const file = userConfigPath(env);
  const saved = fileExists(file) ? loadConfigFile(userConfigSchema, file) : {};
  const home = env.HOME ?? homedir();

  const pool = flags.pool ?? env.UPDRAFT_POOL ?? saved.pool;
  if (!pool) {
    throw new NoPoolError(
      "no pool given: pass --pool wss://HOST:PORT, set UPDRAFT_POOL, or put 'pool:' in " + file,
    );
  }

  let credential: ClientSettings["credential"];
  if (flags.proxy) credential = { proxyFile: flags.proxy };
  else if (flags.cert) credential = { certFile: flags.cert, keyFile: flags.key ?? flags.cert };
  else if (env.X509_USER_PROXY) credential = { proxyFile: env.X509_USER_PROXY };
  else if (env.X509_USER_CERT)
    credential = { certFile: env.X509_USER_CERT, keyFile: env.X509_USER_KEY ?? env.X509_USER_CERT };
  else if (saved.proxy) credential = { proxyFile: saved.proxy };
  else if (saved.cert) credential = { certFile: saved.cert, keyFile: saved.key ?? saved.cert };
  else {
    const defaultProxy = `/tmp/x509up_u${process.getuid?.() ?? 0}`;
    credential = fileExists(defaultProxy)
      ? { proxyFile: defaultProxy }
      : {
          certFile: join(home, ".globus", "usercert.pem"),
          keyFile: join(home, ".globus", "userkey.pem"),
        };
  }

  const caDir =
    flags.caDir ?? env.X509_CERT_DIR ?? saved.ca_dir ?? "/etc/grid-security/certificates";
  return { pool, credential, caDir };
}
