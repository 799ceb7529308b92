/**
 * The development pool's token issuers, beside its PKI: `<state>/tokens` signs the demo users'
 * tokens (`<state>/pki/users/<name>/token`, also what `updraft token issue --dir` uses), and
 * `<state>/frontend-tokens` is the frontend's own issuer for its pilots' tokens. The demo
 * collector and schedd trust both. Made once and reused; a user token is renewed when it has less
 * than a day left.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { writePrivateFile } from "../security/ca-dir.js";
import { describeToken } from "../security/token-description.js";
import { initIssuerDir, issueToken, issuerPaths } from "../security/token-issuer.js";
import { WLCG_ANY_AUDIENCE } from "../security/token-verify.js";
import { USERS } from "./dev-pki.js";

/** Issuer strings the demo configs name (config/demo/*.yaml). */
export const DEMO_USER_ISSUER = "https://localhost/updraft-demo/users";
export const DEMO_PILOT_ISSUER = "https://localhost/updraft-demo/pilots";

/** Every compute scope: demo users may read, submit, edit and remove their jobs. */
const USER_SCOPES = "compute.read compute.create compute.modify compute.cancel";
const TOKEN_S = 7 * 24 * 3600;
const RENEW_BELOW_S = 24 * 3600;

export interface DevTokens {
  userIssuerDir: string;
  pilotIssuerDir: string;
  /** `<state>/pki/users/<name>/token` (0600). */
  userToken(name: (typeof USERS)[number]): string;
}

async function ensureIssuer(dir: string, issuer: string): Promise<void> {
  if (existsSync(issuerPaths(dir).keyFile)) return;
  const r = await initIssuerDir(dir, issuer);
  if (!r.ok) throw new Error(r.reason);
}

function fresh(file: string, now: number): boolean {
  if (!existsSync(file)) return false;
  const d = describeToken(readFileSync(file, "utf8").trim(), now);
  const exp = d.ok ? d.claims.exp : undefined;
  return typeof exp === "number" && exp * 1000 - now > RENEW_BELOW_S * 1000;
}

export async function ensureDevTokens(stateDir: string, now = Date.now()): Promise<DevTokens> {
  const userIssuerDir = join(stateDir, "tokens");
  const pilotIssuerDir = join(stateDir, "frontend-tokens");
  await ensureIssuer(userIssuerDir, DEMO_USER_ISSUER);
  await ensureIssuer(pilotIssuerDir, DEMO_PILOT_ISSUER);
  const tokenFile = (name: string) => join(stateDir, "pki", "users", name, "token");
  for (const name of USERS) {
    const file = tokenFile(name);
    if (fresh(file, now)) continue;
    // The WLCG "any" audience: the demo's ports change from run to run, its users' tokens do not.
    const token = await issueToken(userIssuerDir, {
      sub: name,
      audiences: [WLCG_ANY_AUDIENCE],
      scope: USER_SCOPES,
      groups: ["/demo"],
      lifetimeS: TOKEN_S,
      now,
    });
    writePrivateFile(file, `${token}\n`);
  }
  return { userIssuerDir, pilotIssuerDir, userToken: tokenFile };
}
