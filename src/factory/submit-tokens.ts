/**
 * The frontend's bearer token for submitting to an entry's CE (`GlideinEncParamSubmitToken`, as
 * glideinWMS's `frontend_scitoken`): checked against the entry's CE before any use, and kept in
 * one 0600 file per (client, entry) that each newer token replaces, so the jobs submitted with an
 * earlier token of the same subject are watched and removed with the newest.
 *
 * The factory holds none of the issuers' keys: the CE verifies the signature. What is checked
 * here is what would make the factory hand a token to the wrong place or send a dead one: the
 * audience must name this entry's CE (a token for another CE, or for the WLCG "any" audience, is
 * not used), the token must be a JWS of an asymmetric algorithm, unexpired and already valid.
 */
import { chmodSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { readBoundedText } from "../common/bounded-read.js";
import { safeName } from "./credentials.js";

/** Largest submit token taken (as A-REX's REST client sends at most). */
export const MAX_SUBMIT_TOKEN_BYTES = 16 * 1024;

/** A token that expires within this margin is not sent: the CE would refuse it mid-submit. */
const EXPIRY_MARGIN_S = 60;

/** Clock skew allowed on `nbf` and `iat`. */
const LEEWAY_S = 60;

const JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

export type SubmitTokenCheck =
  { ok: true; exp: number; owner: string } | { ok: false; reason: string };

function decodePart(part: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(Buffer.from(part, "base64url").toString("utf8"));
    return v !== null && typeof v === "object" && !Array.isArray(v)
      ? (v as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Whether `token` may be sent to the CE whose audience is `audience` at `nowS`. Reasons name the
 * failed check and never echo the token.
 */
export function checkSubmitToken(token: string, audience: string, nowS: number): SubmitTokenCheck {
  if (Buffer.byteLength(token) > MAX_SUBMIT_TOKEN_BYTES) {
    return { ok: false, reason: `size: longer than ${MAX_SUBMIT_TOKEN_BYTES} bytes` };
  }
  if (!JWS.test(token)) return { ok: false, reason: "malformed: not a signed JWT" };
  const [h, p] = token.split(".");
  const header = decodePart(h!);
  const claims = decodePart(p!);
  if (!header || !claims) return { ok: false, reason: "malformed: header or claims not JSON" };
  const alg = header.alg;
  if (typeof alg !== "string" || !/^(RS|PS|ES)(256|384|512)$|^EdDSA$/.test(alg)) {
    return { ok: false, reason: `algorithm: ${String(alg).slice(0, 20)} is not a public-key one` };
  }
  if (typeof claims.iss !== "string" || typeof claims.sub !== "string") {
    return { ok: false, reason: "malformed: no iss or sub" };
  }
  const aud = claims.aud;
  const auds = typeof aud === "string" ? [aud] : Array.isArray(aud) ? aud : [];
  if (audience === "" || !auds.includes(audience)) {
    return {
      ok: false,
      reason: `audience: the token does not name this entry's CE (${audience || "no gatekeeper set"})`,
    };
  }
  const exp = claims.exp;
  if (typeof exp !== "number") return { ok: false, reason: "malformed: no exp" };
  if (exp <= nowS + EXPIRY_MARGIN_S) return { ok: false, reason: "expired" };
  if (typeof claims.nbf === "number" && claims.nbf > nowS + LEEWAY_S) {
    return { ok: false, reason: "not yet valid" };
  }
  return { ok: true, exp, owner: `${claims.iss}#${claims.sub}` };
}

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
    current = readBoundedText(file, MAX_SUBMIT_TOKEN_BYTES + 2);
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

/** The `exp` of a stored token's text, or undefined when it cannot be read as one. */
function storedExp(text: string): number | undefined {
  const part = text.trim().split(".")[1];
  const claims = part !== undefined ? decodePart(part) : undefined;
  return typeof claims?.exp === "number" ? claims.exp : undefined;
}

/**
 * Delete stored CE tokens that have expired (or cannot be read as tokens, or are torn `.tmp`
 * writes): nothing can use them, and a newer request writes the file again. Only files named as
 * storeSubmitToken names them are touched. Returns how many went.
 */
export function removeExpiredSubmitTokens(baseDir: string, nowS: number): number {
  let removed = 0;
  const list = (dir: string) => {
    try {
      return readdirSync(dir, { withFileTypes: true });
    } catch {
      return [];
    }
  };
  for (const client of list(baseDir)) {
    if (!client.isDirectory()) continue;
    const dir = join(baseDir, client.name);
    for (const f of list(dir)) {
      const m = SUBMIT_TOKEN_FILE.exec(f.name);
      if (!m || !f.isFile()) continue;
      let exp: number | undefined;
      try {
        exp = m[1]
          ? undefined
          : storedExp(readBoundedText(join(dir, f.name), MAX_SUBMIT_TOKEN_BYTES + 2));
      } catch {
        exp = undefined;
      }
      if (exp !== undefined && exp > nowS) continue;
      rmSync(join(dir, f.name), { force: true });
      removed++;
    }
  }
  return removed;
}
