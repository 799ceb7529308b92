/**
 * A small token issuer for private pools and tests: one ES256 key in a directory
 * (`signing-key.pem` PKCS#8 0600, `jwks.json`, `issuer`), WLCG Common JWT Profile access tokens
 * signed with it. The unverified description of a token lives in token-description.ts.
 */
import { createHash, randomUUID } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { exportJWK, exportPKCS8, generateKeyPair, importPKCS8, SignJWT } from "jose";
import { writePrivateFile } from "./ca-dir.js";

export interface IssuerDir {
  issuer: string;
  kid: string;
  keyFile: string;
  jwksFile: string;
}

export type IssuerInit = { ok: true; dir: IssuerDir } | { ok: false; reason: string };

export function issuerPaths(dir: string) {
  return {
    keyFile: join(dir, "signing-key.pem"),
    jwksFile: join(dir, "jwks.json"),
    issuerFile: join(dir, "issuer"),
  };
}

/** Signature algorithms an issuer made here can use: ES256, or RS256 for peers without ES256. */
export const ISSUER_ALGS = ["ES256", "RS256"] as const;
export type IssuerAlg = (typeof ISSUER_ALGS)[number];

/** Make a new issuer in `dir`; an existing signing key is never overwritten. */
export async function initIssuerDir(
  dir: string,
  issuer: string,
  alg: IssuerAlg = "ES256",
): Promise<IssuerInit> {
  const p = issuerPaths(dir);
  if (existsSync(p.keyFile)) {
    return { ok: false, reason: `${p.keyFile} exists; remove it to make a new issuer key` };
  }
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const { publicKey, privateKey } = await generateKeyPair(alg, {
    extractable: true,
    ...(alg === "RS256" ? { modulusLength: 2048 } : {}),
  });
  const jwk = await exportJWK(publicKey);
  // The kid is the key's own fingerprint, so a rotated key never reuses a name.
  const kid = createHash("sha256")
    .update(JSON.stringify(alg === "RS256" ? [jwk.n, jwk.e] : [jwk.crv, jwk.x, jwk.y]))
    .digest("base64url")
    .slice(0, 16);
  writePrivateFile(p.keyFile, await exportPKCS8(privateKey));
  writeFileSync(
    p.jwksFile,
    `${JSON.stringify({ keys: [{ ...jwk, kid, alg, use: "sig" }] }, null, 2)}\n`,
    { mode: 0o644 },
  );
  writeFileSync(p.issuerFile, `${issuer}\n`, { mode: 0o644 });
  return { ok: true, dir: { issuer, kid, keyFile: p.keyFile, jwksFile: p.jwksFile } };
}

export interface IssueOptions {
  sub: string;
  audiences: readonly string[];
  scope?: string;
  groups?: readonly string[];
  lifetimeS: number;
  /** Extra claims (e.g. `updraft.pilot`). */
  extra?: Record<string, unknown>;
  now?: number;
}

/** An issuer directory read once: what signing needs, so a batch costs one key import. */
export interface LoadedIssuer {
  issuer: string;
  kid: string | undefined;
  alg: IssuerAlg;
  key: Awaited<ReturnType<typeof importPKCS8>>;
}

export async function loadIssuer(dir: string): Promise<LoadedIssuer> {
  const p = issuerPaths(dir);
  const issuer = readFileSync(p.issuerFile, "utf8").trim();
  const jwks = JSON.parse(readFileSync(p.jwksFile, "utf8")) as {
    keys: { kid?: string; alg?: string }[];
  };
  const alg: IssuerAlg = jwks.keys[0]?.alg === "RS256" ? "RS256" : "ES256";
  const key = await importPKCS8(readFileSync(p.keyFile, "utf8"), alg);
  return { issuer, kid: jwks.keys[0]?.kid, alg, key };
}

/** Sign a WLCG profile 1.0 access token with the issuer in `dir`. */
export async function issueToken(dir: string, o: IssueOptions): Promise<string> {
  return signToken(await loadIssuer(dir), o);
}

/** Sign a WLCG profile 1.0 access token with an issuer already loaded. */
export async function signToken(signer: LoadedIssuer, o: IssueOptions): Promise<string> {
  const now = Math.floor((o.now ?? Date.now()) / 1000);
  const claims: Record<string, unknown> = {
    ...o.extra,
    "wlcg.ver": "1.0",
    sub: o.sub,
    jti: randomUUID(),
  };
  if (o.scope) claims.scope = o.scope;
  if (o.groups && o.groups.length > 0) claims["wlcg.groups"] = [...o.groups];
  const kid = signer.kid;
  return new SignJWT(claims)
    .setProtectedHeader({ alg: signer.alg, typ: "JWT", ...(kid ? { kid } : {}) })
    .setIssuer(signer.issuer)
    .setAudience(o.audiences.length === 1 ? o.audiences[0] : [...o.audiences])
    .setIssuedAt(now)
    .setNotBefore(now)
    .setExpirationTime(now + o.lifetimeS)
    .sign(signer.key);
}
