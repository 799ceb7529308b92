/**
 * WLCG Bearer Token Discovery: where a client finds its token when none is named. The order is
 * the profile's: `BEARER_TOKEN` (the token itself), `BEARER_TOKEN_FILE`,
 * `$XDG_RUNTIME_DIR/bt_u<uid>`, then `/tmp/bt_u<uid>`.
 */
import { existsSync } from "node:fs";
import { userInfo } from "node:os";
import { join } from "node:path";
import { MAX_CREDENTIAL_FILE_BYTES, readBoundedText } from "../common/bounded-read.js";

export type FoundToken =
  { found: true; token: string; source: string } | { found: false; tried: string[] };

export function discoverBearerToken(
  env: NodeJS.ProcessEnv = process.env,
  uid = userInfo().uid,
): FoundToken {
  const tried: string[] = [];
  const direct = env.BEARER_TOKEN?.trim();
  if (direct) return { found: true, token: direct, source: "$BEARER_TOKEN" };
  tried.push("$BEARER_TOKEN");
  const files: string[] = [];
  if (env.BEARER_TOKEN_FILE) files.push(env.BEARER_TOKEN_FILE);
  else tried.push("$BEARER_TOKEN_FILE");
  if (env.XDG_RUNTIME_DIR) files.push(join(env.XDG_RUNTIME_DIR, `bt_u${uid}`));
  files.push(`/tmp/bt_u${uid}`);
  for (const f of files) {
    if (existsSync(f)) {
      const token = readTokenFile(f);
      if (token) return { found: true, token, source: f };
    }
    tried.push(f);
  }
  return { found: false, tried };
}

/**
 * A token file holds the token, possibly with surrounding whitespace. Read up to the credential
 * bound: a path that names a huge file or a device must not fill memory.
 */
export function readTokenFile(file: string): string {
  return readBoundedText(file, MAX_CREDENTIAL_FILE_BYTES).trim();
}

/**
 * True when a credential file's text is a bearer token (a compact JWS) rather than PEM: pilots
 * and clients take either from the same places.
 */
export function isBearerTokenText(text: string): boolean {
  return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(text.trim());
}
