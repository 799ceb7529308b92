/**
 * Pilot credentials from GlideClient ads: decrypted with the factory's RSA key and written 0600
 * into a per-client directory (0700). The credential id is a hash, so the database and logs can
 * name a credential without holding it. Callers decrypt only after the request's identity check.
 * A decrypted file is deleted once no request names it and no pilot that may still run uses it.
 */
import { createHash } from "node:crypto";
import {
  chmodSync,
  mkdirSync,
  readdirSync,
  renameSync,
  rmSync,
  rmdirSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { CycleCache } from "../common/cycle-cache.js";
import { UpdraftError } from "../common/errors.js";
import { decryptCredential } from "../security/credential-crypto.js";

/** A decrypted credential batch that is not what its type says; the whole batch is refused. */
export class CredentialBatchError extends UpdraftError {
  readonly code = "credential-batch";
  override name = "CredentialBatchError";
}

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
  const stored = storeCredentialBytes(baseDir, client, bytes);
  bytes.fill(0);
  return stored;
}

/**
 * A batch of single-pilot tokens (one per line), each stored as its own credential: the factory
 * gives each pilot one, and never the same one to two pilots.
 */
export function storePilotTokenBatch(
  baseDir: string,
  client: string,
  encrypted: string,
  privateKeyPem: string,
  maxTokens = 1000,
): StoredCredential[] {
  const bytes = decryptCredential(encrypted, privateKeyPem);
  const lines = bytes.toString("latin1").split("\n");
  bytes.fill(0);
  const tokens = lines.map((l) => l.trim()).filter((l) => l !== "");
  if (tokens.length > maxTokens)
    throw new CredentialBatchError(`more than ${maxTokens} tokens in one batch`);
  // A JWS compact token is three base64url parts; anything else is not a pilot token.
  if (tokens.some((t) => !/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(t))) {
    throw new CredentialBatchError("the batch holds something other than JWT tokens");
  }
  return tokens.map((t) => storeCredentialBytes(baseDir, client, Buffer.from(`${t}\n`)));
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n[A-Za-z0-9+/=\r\n]*-----END \1-----\r?\n?/g;
const KEY_LABELS = new Set(["PRIVATE KEY", "EC PRIVATE KEY", "RSA PRIVATE KEY"]);

/**
 * A batch of per-pilot proxies (see frontend/pilot-proxies.ts): each pilot's certificate and
 * key, pair after pair, then once the chain that signed them. Each pilot's proxy is stored as its
 * own single-file credential (certificate, key, chain) and given to one pilot only. Anything but
 * PEM certificates and keys in that order refuses the whole batch.
 */
export function storePilotProxyBatch(
  baseDir: string,
  client: string,
  encrypted: string,
  privateKeyPem: string,
  maxProxies = 1000,
): StoredCredential[] {
  const bytes = decryptCredential(encrypted, privateKeyPem);
  const text = bytes.toString("latin1");
  bytes.fill(0);
  const blocks = [...text.matchAll(PEM_BLOCK)];
  const rest = text.replace(PEM_BLOCK, "").trim();
  if (rest !== "")
    throw new CredentialBatchError("the batch holds something other than PEM blocks");
  const isKey = (i: number) => KEY_LABELS.has(blocks[i]?.[1] ?? "");
  const isCert = (i: number) => blocks[i]?.[1] === "CERTIFICATE";
  const pairs: string[] = [];
  let i = 0;
  while (isCert(i) && isKey(i + 1)) {
    pairs.push(blocks[i]![0] + blocks[i + 1]![0]);
    i += 2;
  }
  const chain = blocks.slice(i);
  if (pairs.length === 0 || chain.length === 0 || chain.some((b) => b[1] !== "CERTIFICATE")) {
    throw new CredentialBatchError(
      "the batch is not proxy certificate and key pairs followed by their chain",
    );
  }
  if (pairs.length > maxProxies)
    throw new CredentialBatchError(`more than ${maxProxies} proxies in one batch`);
  const chainPem = chain.map((b) => b[0]).join("");
  return pairs.map((p) => storeCredentialBytes(baseDir, client, Buffer.from(p + chainPem)));
}

function storeCredentialBytes(baseDir: string, client: string, bytes: Buffer): StoredCredential {
  const id = createHash("sha256").update(bytes).digest("hex").slice(0, 16);
  const dir = join(baseDir, safeName(client));
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  const file = join(dir, `credential-${id}`);
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, bytes, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
  return { id, file };
}

/**
 * Decrypted credentials by (client, ciphertext), across cycles: a frontend re-advertises the same
 * ciphertext while its credential is unchanged, and RSA decryption is the costliest step of a
 * cycle. What the last two cycles did not ask for is dropped, so the cache follows the requests.
 */
export class CredentialCache extends CycleCache<StoredCredential | StoredCredential[]> {
  /** Ids of the credentials the cache may still hand out. */
  ids(): Set<string> {
    const ids = new Set<string>();
    for (const c of this.values()) {
      if (Array.isArray(c)) for (const x of c) ids.add(x.id);
      else ids.add(c.id);
    }
    return ids;
  }
}

const CREDENTIAL_FILE = /^credential-([0-9a-f]{16})(\.tmp)?$/;

/**
 * Delete decrypted credentials whose id is not in `keep` (and torn `.tmp` writes), then client
 * directories left empty. Only files named as storeClientCredential names them are touched.
 */
export function removeUnusedCredentials(baseDir: string, keep: ReadonlySet<string>): number {
  return removeClientFiles(baseDir, CREDENTIAL_FILE, (_, m) => !keep.has(m[1]!) || !!m[2], {
    pruneEmpty: true,
  });
}

/**
 * The walk both clean-ups of the per-client directories under `baseDir` make: each regular file
 * whose name matches `name` is deleted when `drop` (given its path and the name's match) says
 * so; with `pruneEmpty`, a client directory left empty goes too. A directory that cannot be
 * listed is passed over. Returns how many files went.
 */
export function removeClientFiles(
  baseDir: string,
  name: RegExp,
  drop: (file: string, m: RegExpExecArray) => boolean,
  opts: { pruneEmpty?: boolean } = {},
): number {
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
      const m = name.exec(f.name);
      if (!m || !f.isFile() || !drop(join(dir, f.name), m)) continue;
      rmSync(join(dir, f.name), { force: true });
      removed++;
    }
    if (opts.pruneEmpty && list(dir).length === 0) rmdirSync(dir);
  }
  return removed;
}

/** A client name as a directory name: anything outside [A-Za-z0-9_.-] becomes '_'. */
export function safeName(client: string): string {
  const s = client.replace(/[^A-Za-z0-9_.-]/g, "_");
  return s === "." || s === ".." || s === "" ? "_" : s;
}
