/**
 * Pilots revoked by id. A pilot token names its pilot (`updraft.pilot.pilot_id`); a daemon with a
 * revocation file refuses a token whose pilot is listed there, and closes connections already
 * open with one when the file changes. The file is one pilot id (or the token's sub, `pilot-<id>`)
 * per line (`#` starts a comment),
 * read at start and again when its modification time or size changes, so an operator revokes a
 * pilot by appending its id (`updraft token revoke`): no restart, no RPC. The same idea as
 * HTCondor's SEC_TOKEN_REVOCATION_EXPR, narrowed to the one claim a pilot cannot choose.
 */
import { readFileSync, statSync } from "node:fs";
import { UpdraftError } from "../common/errors.js";
import { MAX_BINDING_NAME } from "./pilot-binding.js";

export interface PilotRevocations {
  isRevoked(pilotId: string): boolean;
  /** Read the file again if it changed (at most every `minIntervalMs`); true when the list did. */
  recheck(): boolean;
  readonly size: number;
}

/** Most ids one file may list; a longer file is refused rather than held in memory. */
export const MAX_REVOKED_PILOTS = 100_000;

/** The ids in a revocation file's text; lines that cannot be a pilot id are an error. */
export function parseRevokedPilots(text: string): Set<string> | { error: string } {
  const ids = new Set<string>();
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const id = lines[i]!.replace(/#.*/, "").trim();
    if (id === "") continue;
    if (id.length > MAX_BINDING_NAME || !/^[A-Za-z0-9][A-Za-z0-9._@:+-]*$/.test(id)) {
      return { error: `line ${i + 1} is not a pilot id` };
    }
    ids.add(id);
    if (ids.size > MAX_REVOKED_PILOTS) return { error: `more than ${MAX_REVOKED_PILOTS} ids` };
  }
  return ids;
}

export interface RevocationFileOptions {
  minIntervalMs?: number;
  /** Told when a changed file cannot be read or parsed (the previous list stays in force). */
  onError?: (reason: string) => void;
  now?: () => number;
}

/** A revoked pilots file that does not parse. */
export class RevocationFileError extends UpdraftError {
  readonly code = "revoked-pilots";
  override name = "RevocationFileError";
}

/** The revocation list in `file`; throws at start when it cannot be read or parsed. */
export function createPilotRevocationFile(
  file: string,
  opts: RevocationFileOptions = {},
): PilotRevocations {
  const now = opts.now ?? Date.now;
  const minIntervalMs = opts.minIntervalMs ?? 5_000;
  const load = (): { ids: Set<string>; stamp: string } => {
    const st = statSync(file);
    const parsed = parseRevokedPilots(readFileSync(file, "utf8"));
    if (!(parsed instanceof Set)) throw new RevocationFileError(`${file}: ${parsed.error}`);
    return { ids: parsed, stamp: `${st.mtimeMs}:${st.size}` };
  };
  let current = load();
  let lastCheck = now();
  return {
    // A line may name the pilot id or the token's sub (`pilot-<id>`), which is what a slot's
    // AuthenticatedIdentity shows (`<issuer>#pilot-<id>`): either revokes the pilot.
    isRevoked: (id) => current.ids.has(id) || current.ids.has(`pilot-${id}`),
    get size() {
      return current.ids.size;
    },
    recheck() {
      const t = now();
      if (t - lastCheck < minIntervalMs) return false;
      lastCheck = t;
      try {
        const st = statSync(file);
        if (`${st.mtimeMs}:${st.size}` === current.stamp) return false;
        const next = load();
        const changed =
          next.ids.size !== current.ids.size || [...next.ids].some((id) => !current.ids.has(id));
        current = next;
        return changed;
      } catch (err) {
        opts.onError?.((err as Error).message);
        return false;
      }
    },
  };
}
