/**
 * Pilot credentials from GlideClient ads: decrypted with the factory's RSA key and written 0600
 * into a per-client directory (0700). The credential id is a hash, so the database and logs can
 * name a credential without holding it. Callers decrypt only after the request's identity check.
 */
import { createHash } from "node:crypto";
import { chmodSync, mkdirSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { decryptCredential } from "../security/credential-crypto.js";

export interface StoredCredential {
  id: string;
  file: string;
}

export function storeClientCredential(
  baseDir: string,
  client: string,
  encrypted: string,
  privateKeyPem: string,
): StoredCredential {
  const bytes = decryptCredential(encrypted, privateKeyPem);
  const id = createHash("sha256").update(bytes).digest("hex").slice(0, 16);
  const dir = join(baseDir, safeName(client));
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  const file = join(dir, `credential-${id}`);
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, bytes, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
  bytes.fill(0);
  return { id, file };
}

/** A client name as a directory name: anything outside [A-Za-z0-9_.-] becomes '_'. */
function safeName(client: string): string {
  const s = client.replace(/[^A-Za-z0-9_.-]/g, "_");
  return s === "." || s === ".." || s === "" ? "_" : s;
}
