/**
 * The frontend's bearer token for submitting to an entry's CE (`GlideinEncParamSubmitToken`, as
 * glideinWMS's `frontend_scitoken`): checked against the entry's CE before any use, and kept in
 * one 0600 file per (client, entry) that each newer token replaces, so the jobs submitted with an
 * earlier token of the same subject are watched and removed with the newest.
 *
 * The factory holds none of the issuers' keys: the CE verifies the signature. Before any use the
 * token passes the checks of src/security/ce-token-check.ts (the frontend's too): audience this
 * entry's CE, a public-key algorithm, unexpired, already valid, and allowed to submit.
 */
import { chmodSync, mkdirSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { readBoundedText } from "../common/bounded-read.js";
import { MAX_CE_TOKEN_BYTES, tokenExp } from "../security/ce-token-check.js";
import { removeClientFiles, safeName } from "./credentials.js";

/**
 * The audience a CE token for this entry must name: the last word of its gatekeeper (as
 * glideinWMS takes it), or the ARC adapter's endpoint when no gatekeeper is set.
 */
export function entryCeAudience(entry: {
  gatekeeper: string;
  adapter: Readonly<Record<string, unknown>>;
}): string {
  const last = entry.gatekeeper.trim().split(/\s+/).at(-1) ?? "";
  if (last !== "") return last;
  const endpoint = entry.adapter.endpoint;
  return typeof endpoint === "string" ? endpoint.replace(/\/+$/, "") : "";
}

/**
 * Write the token to `<baseDir>/<client>/submit-token-<entry>` (0600, directory 0700), replacing
 * the previous one atomically when it differs. Returns the file.
 */
export function storeSubmitToken(
  baseDir: string,
  client: string,
  entry: string,
  token: string,
): string {
  const dir = join(baseDir, safeName(client));
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  const file = join(dir, `submit-token-${safeName(entry)}`);
  let current: string | undefined;
  try {
    current = readBoundedText(file, MAX_CE_TOKEN_BYTES + 2);
  } catch {
    current = undefined;
  }
  if (current === `${token}\n`) return file;
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, `${token}\n`, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
  return file;
}

const SUBMIT_TOKEN_FILE = /^submit-token-[A-Za-z0-9_.-]+(\.tmp)?$/;

/**
 * Delete stored CE tokens that have expired (or cannot be read as tokens, or are torn `.tmp`
 * writes): nothing can use them, and a newer request writes the file again. Only files named as
 * storeSubmitToken names them are touched. Returns how many went.
 */
export function removeExpiredSubmitTokens(baseDir: string, nowS: number): number {
  return removeClientFiles(baseDir, SUBMIT_TOKEN_FILE, (file, m) => {
    if (m[1]) return true; // a torn write
    try {
      const exp = tokenExp(readBoundedText(file, MAX_CE_TOKEN_BYTES + 2));
      return exp === undefined || exp <= nowS;
    } catch {
      return true;
    }
  });
}
