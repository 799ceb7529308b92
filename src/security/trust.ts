/**
 * Trusted CAs, their CRLs and their namespaces, loaded from a grid trust directory (IGTF layout:
 * `<hash>.0` CA certificates, `<hash>.r0` CRLs, `<hash>.signing_policy` and `<hash>.namespaces`).
 * A store is immutable: reloading the directory (for fresh CRLs)
 * makes a new store, which also starts a new verification cache.
 */
import { readdirSync, statSync } from "node:fs";
import * as fsp from "node:fs/promises";
import { basename, join } from "node:path";
import { isSelfIssued, parseCertificate, pemCertificates, type CertInfo } from "./cert-info.js";
import { crlSignedBy, parseCrl, pemCrls, type CrlInfo } from "./crl.js";
import {
  MAX_POLICY_FILE_BYTES,
  buildNamespaceIndex,
  type NamespaceIndex,
  type PolicyFile,
} from "./ca-policy.js";
import { canonicalName, subjectHash } from "./dn.js";
import type { VerifyCache } from "./verify-cache.js";
import { createVerifyCache } from "./verify-cache.js";
import { TrustError } from "./trust-error.js";
import { readHead } from "../common/bounded-read.js";

export interface TrustedCa {
  info: CertInfo;
  spkiDer: Buffer;
  /** Where it came from, for messages. */
  source: string;
}

export interface TrustedCrl {
  crl: CrlInfo;
  /** The key of the CA that signed it (checked when the store was made). */
  issuerSpkiDer: Buffer;
  source: string;
}

export interface TrustStore {
  /** Trusted CAs by the hex of their canonical subject. */
  readonly cas: ReadonlyMap<string, readonly TrustedCa[]>;
  /** CRLs whose signature a trusted CA's key verified, by the hex of that CA's canonical subject. */
  readonly crls: ReadonlyMap<string, readonly TrustedCrl[]>;
  /**
   * Which subjects each CA may sign, or undefined when namespaces are not enforced
   * (`caNamespaces: "off"`).
   */
  readonly namespaces: NamespaceIndex | undefined;
  readonly caNamespaces: CaNamespaceMode;
  /**
   * CAs (by the hex of their canonical subject) that sign nothing because of their CRL: a CRL
   * file that did not parse or verify, or none where the CA's `<hash>.crl_url` says it publishes
   * one. Each with the reason.
   */
  readonly crlFailures: ReadonlyMap<string, string>;
  readonly crlExpired: CrlExpiredMode;
  /** Files that were skipped, with why (unreadable, not a certificate, CRL of an unknown CA...). */
  readonly problems: readonly string[];
  readonly dir: string | undefined;
  /** Names, sizes and modification times of the directory's files when it was loaded. */
  readonly fingerprint: string | undefined;
  readonly loadedAt: Date;
  /** Verdicts on chains already seen; private to verifyChain. */
  readonly cache: VerifyCache;
}

export { TrustError };

export const nameKey = (nameDer: Buffer): string => canonicalName(nameDer).toString("hex");

/**
 * `enforce` (the default): a certificate is accepted only inside its issuing CA's namespace, and
 * a CA with no `.signing_policy` or `.namespaces` signs nothing. `off`: any trusted CA may issue
 * any subject.
 */
export type CaNamespaceMode = "enforce" | "off";

/**
 * What a CRL past its nextUpdate means. `refuse` (the default, IGTF practice): the CA signs
 * nothing until fetch-crl brings a fresh one. `warn`: it is still used, and the server logs it.
 */
export type CrlExpiredMode = "refuse" | "warn";

export interface TrustSource {
  /** CA certificates as PEM text or DER. */
  cas: { data: string | Buffer; source: string }[];
  /** CRLs as PEM text or DER. */
  crls?: { data: string | Buffer; source: string }[];
  /** `.signing_policy` and `.namespaces` files. */
  policies?: PolicyFile[];
  /** Subject hashes of CAs that publish CRLs (`<hash>.crl_url` files): a missing CRL fails. */
  crlExpected?: readonly string[];
  /** Files past their bound, not read: a CA's is ignored, a CRL's fails its CA closed. */
  tooLarge?: readonly { source: string; maxBytes: number }[];
  caNamespaces?: CaNamespaceMode;
  crlExpired?: CrlExpiredMode;
  dir?: string;
  fingerprint?: string;
}

/** Build a store from certificates and CRLs in memory. */
export function createTrustStore(src: TrustSource): TrustStore {
  const problems: string[] = [];
  const cas = new Map<string, TrustedCa[]>();
  for (const { data, source } of src.cas) {
    const ders = typeof data === "string" ? pemCertificates(data) : [data];
    if (ders.length === 0) problems.push(`${source}: no certificate in the file`);
    for (const der of ders) {
      try {
        const info = parseCertificate(der);
        // Old X.509 v1 roots carry no basicConstraints; OpenSSL trusts them as CAs when self-issued.
        const legacyRoot = info.basicConstraints === undefined && isSelfIssued(info);
        if (!info.basicConstraints?.ca && !legacyRoot) {
          problems.push(`${source}: ${info.subject} is not a CA certificate; ignored`);
          continue;
        }
        const spkiDer = info.x509.publicKey.export({
          type: "spki",
          format: "der",
        });
        const k = nameKey(info.subjectDer);
        const list = cas.get(k) ?? [];
        if (!list.some((c) => c.info.der.equals(der))) list.push({ info, spkiDer, source });
        cas.set(k, list);
      } catch (err) {
        problems.push(`${source}: ${(err as Error).message}`);
      }
    }
  }
  // A broken CRL makes its CA fail closed: found by the CRL's issuer, else by the file's hash.
  const casByHash = new Map<string, string[]>();
  for (const [k, list] of cas) {
    const h = subjectHash(list[0].info.subjectDer);
    casByHash.set(h, [...(casByHash.get(h) ?? []), k]);
  }
  const crlFailures = new Map<string, string>();
  const failCa = (keys: readonly string[], reason: string) => {
    for (const k of keys) if (cas.has(k) && !crlFailures.has(k)) crlFailures.set(k, reason);
  };
  const crls = new Map<string, TrustedCrl[]>();
  for (const { data, source } of src.crls ?? []) {
    const fileHash = CRL_HASH.exec(basename(source))?.[1];
    const ders = typeof data === "string" ? pemCrls(data) : [data];
    if (ders.length === 0) {
      problems.push(`${source}: no CRL in the file`);
      failCa(casByHash.get(fileHash ?? "") ?? [], `its CRL ${source} holds no CRL`);
    }
    for (const der of ders) {
      let crl: CrlInfo;
      try {
        crl = parseCrl(der);
      } catch (err) {
        problems.push(`${source}: not a valid CRL: ${(err as Error).message}`);
        failCa(casByHash.get(fileHash ?? "") ?? [], `its CRL ${source} does not parse`);
        continue;
      }
      const k = nameKey(crl.issuerDer);
      const signer = (cas.get(k) ?? []).find((ca) => crlSignedBy(crl, ca.info.x509.publicKey));
      if (!signer) {
        problems.push(`${source}: no trusted CA signed this CRL; ignored`);
        failCa(
          [k, ...(casByHash.get(fileHash ?? "") ?? [])],
          `its CRL ${source} is not signed by its key`,
        );
        continue;
      }
      const list = crls.get(k) ?? [];
      list.push({ crl, issuerSpkiDer: signer.spkiDer, source });
      crls.set(k, list);
    }
  }
  for (const { source, maxBytes } of src.tooLarge ?? []) {
    const crlHash = CRL_HASH.exec(basename(source))?.[1];
    problems.push(`${source}: larger than ${maxBytes} bytes; ignored`);
    if (crlHash !== undefined) {
      failCa(casByHash.get(crlHash) ?? [], `its CRL ${source} is larger than ${maxBytes} bytes`);
    }
  }
  for (const h of src.crlExpected ?? []) {
    const missing = (casByHash.get(h) ?? []).filter((k) => !crls.has(k));
    if (missing.length === 0) continue;
    problems.push(`${h}.crl_url names a CRL, but there is no valid ${h}.r0: run fetch-crl`);
    failCa(missing, `it publishes a CRL (${h}.crl_url) but none is installed`);
  }
  for (const [k, reason] of crlFailures) {
    problems.push(`${cas.get(k)![0].info.subject} signs nothing: ${reason}`);
  }
  const caNamespaces = src.caNamespaces ?? "enforce";
  let namespaces: NamespaceIndex | undefined;
  if (caNamespaces === "enforce") {
    const byHash = new Map<string, string[]>();
    for (const list of cas.values()) {
      for (const ca of list) {
        const h = subjectHash(ca.info.subjectDer);
        byHash.set(h, [...(byHash.get(h) ?? []), ca.info.subject]);
      }
    }
    namespaces = buildNamespaceIndex(src.policies ?? [], byHash, problems);
  }
  return {
    cas,
    crls,
    namespaces,
    caNamespaces,
    crlFailures,
    crlExpired: src.crlExpired ?? "refuse",
    problems,
    dir: src.dir,
    fingerprint: src.fingerprint,
    loadedAt: new Date(),
    cache: createVerifyCache(),
  };
}

const CA_FILE = /^[0-9a-f]{8}\.\d+$/;
const CRL_FILE = /^[0-9a-f]{8}\.r\d+$/;
const POLICY_FILE = /^([0-9a-f]{8})\.(signing_policy|namespaces)$/;
const CRL_HASH = /^([0-9a-f]{8})\.r\d+$/;
/** fetch-crl's input, shipped with every IGTF CA: the CA publishes a CRL at that URL. */
const CRL_URL_FILE = /^([0-9a-f]{8})\.crl_url$/;

export interface LoadTrustOptions {
  caNamespaces?: CaNamespaceMode;
  crlExpired?: CrlExpiredMode;
}

/** The trust directory's relevant files as read at one moment: names, bytes, fingerprint. */
interface DirSnapshot {
  names: string[];
  files: Map<string, Buffer>;
  fingerprint: string;
}

const isTrustFile = (n: string) =>
  CA_FILE.test(n) || CRL_FILE.test(n) || POLICY_FILE.test(n) || CRL_URL_FILE.test(n);

/**
 * Most read from a CA file and from a CRL: anyone who can write the trust directory can put a
 * huge or endless file (a link to /dev/zero) there. IGTF's largest CRLs are a few MiB.
 */
export const MAX_CA_FILE_BYTES = 1 << 20;
export const MAX_CRL_FILE_BYTES = 64 << 20;

const maxBytesOf = (n: string) =>
  POLICY_FILE.test(n)
    ? MAX_POLICY_FILE_BYTES
    : CRL_FILE.test(n)
      ? MAX_CRL_FILE_BYTES
      : CA_FILE.test(n)
        ? MAX_CA_FILE_BYTES
        : MAX_POLICY_FILE_BYTES;

/** Every file is read up to one byte past its bound: enough to refuse an oversized one. */
const readLimit = (n: string) => maxBytesOf(n) + 1;

function notADirectory(dir: string, err: unknown): TrustError {
  if (err instanceof TrustError) return err;
  return new TrustError(`cannot read trust directory ${dir}: ${(err as Error).message}`);
}

function snapshotSync(dir: string): DirSnapshot {
  let names: string[];
  try {
    if (!statSync(dir).isDirectory()) throw new TrustError(`${dir} is not a directory`);
    names = readdirSync(dir).sort().filter(isTrustFile);
  } catch (err) {
    throw notADirectory(dir, err);
  }
  const files = new Map<string, Buffer>();
  const stamps: string[] = [];
  for (const n of names) {
    const path = join(dir, n);
    const st = statSync(path);
    stamps.push(`${n}:${st.size}:${st.mtimeMs}`);
    files.set(n, readHead(path, readLimit(n)));
  }
  return { names, files, fingerprint: stamps.join("|") };
}

/** The same as snapshotSync with non-blocking reads, for servers reloading while they serve. */
async function snapshotAsync(dir: string): Promise<DirSnapshot> {
  let names: string[];
  try {
    if (!(await fsp.stat(dir)).isDirectory()) throw new TrustError(`${dir} is not a directory`);
    names = (await fsp.readdir(dir)).sort().filter(isTrustFile);
  } catch (err) {
    throw notADirectory(dir, err);
  }
  const read = await Promise.all(
    names.map(async (n) => {
      const path = join(dir, n);
      const handle = await fsp.open(path, "r");
      try {
        const st = await handle.stat();
        const size = Math.min(st.size, readLimit(n));
        const buf = Buffer.alloc(size);
        const { bytesRead } = await handle.read(buf, 0, size, 0);
        return { n, data: buf.subarray(0, bytesRead), stamp: `${n}:${st.size}:${st.mtimeMs}` };
      } finally {
        await handle.close();
      }
    }),
  );
  return {
    names,
    files: new Map(read.map((r) => [r.n, r.data])),
    fingerprint: read.map((r) => r.stamp).join("|"),
  };
}

function fingerprintSync(dir: string): string {
  const names = readdirSync(dir).sort().filter(isTrustFile);
  return names
    .map((n) => {
      const st = statSync(join(dir, n));
      return `${n}:${st.size}:${st.mtimeMs}`;
    })
    .join("|");
}

async function fingerprintAsync(dir: string): Promise<string> {
  const names = (await fsp.readdir(dir)).sort().filter(isTrustFile);
  const stamps = await Promise.all(
    names.map(async (n) => {
      const st = await fsp.stat(join(dir, n));
      return `${n}:${st.size}:${st.mtimeMs}`;
    }),
  );
  return stamps.join("|");
}

function storeFromSnapshot(dir: string, snap: DirSnapshot, opts: LoadTrustOptions): TrustStore {
  const file = (n: string) => ({ data: snap.files.get(n)!, source: join(dir, n) });
  const asText = (f: { data: Buffer; source: string }) => {
    const text = f.data.toString("latin1");
    return { data: text.includes("-----BEGIN") ? text : f.data, source: f.source };
  };
  // Policy files past their bound are refused by the policy reader itself (ca-policy.ts).
  const over = (n: string) =>
    (CA_FILE.test(n) || CRL_FILE.test(n)) && snap.files.get(n)!.length > maxBytesOf(n);
  const names = snap.names.filter((n) => !over(n));
  const store = createTrustStore({
    cas: names.filter((n) => CA_FILE.test(n)).map((n) => asText(file(n))),
    crls: names.filter((n) => CRL_FILE.test(n)).map((n) => asText(file(n))),
    tooLarge: snap.names
      .filter(over)
      .map((n) => ({ source: join(dir, n), maxBytes: maxBytesOf(n) })),
    policies: names.flatMap((n): PolicyFile[] => {
      const m = POLICY_FILE.exec(n);
      if (!m) return [];
      const f = file(n);
      return [
        {
          kind: m[2] as PolicyFile["kind"],
          hash: m[1],
          data: f.data.toString("latin1"),
          source: f.source,
        },
      ];
    }),
    crlExpected: names.flatMap((n) => CRL_URL_FILE.exec(n)?.[1] ?? []),
    caNamespaces: opts.caNamespaces,
    crlExpired: opts.crlExpired,
    dir,
    fingerprint: snap.fingerprint,
  });
  if (store.cas.size === 0) {
    throw new TrustError(
      `trust directory ${dir} holds no CA certificates (<hash>.0 files)` +
        (store.problems.length ? `: ${store.problems.join("; ")}` : ""),
    );
  }
  return store;
}

/** Load `<hash>.N` CA certificates and `<hash>.rN` CRLs from a trust directory. */
export function loadTrustDir(dir: string, opts: LoadTrustOptions = {}): TrustStore {
  return storeFromSnapshot(dir, snapshotSync(dir), opts);
}

/** loadTrustDir with non-blocking reads (the parse itself runs once per change). */
export async function loadTrustDirAsync(
  dir: string,
  opts: LoadTrustOptions = {},
): Promise<TrustStore> {
  return storeFromSnapshot(dir, await snapshotAsync(dir), opts);
}

/**
 * The store again if its directory is unchanged, else a freshly loaded one (new CRLs, new CAs,
 * and an empty verification cache). Servers call this periodically; it only stats files. When the
 * directory became unreadable the old store is kept, so a half-written update does not lock
 * everyone out; the error is returned for logging.
 */
export function refreshTrustStore(store: TrustStore): { store: TrustStore; error?: Error } {
  if (!store.dir) return { store };
  try {
    if (fingerprintSync(store.dir) === store.fingerprint) return { store };
    return { store: loadTrustDir(store.dir, trustOptionsOf(store)) };
  } catch (err) {
    return { store, error: err as Error };
  }
}

/**
 * refreshTrustStore without blocking the event loop on the disk: only stats while nothing
 * changed; reads and parses once when something did.
 */
export async function refreshTrustStoreAsync(
  store: TrustStore,
): Promise<{ store: TrustStore; error?: Error }> {
  if (!store.dir) return { store };
  try {
    if ((await fingerprintAsync(store.dir)) === store.fingerprint) return { store };
    return { store: await loadTrustDirAsync(store.dir, trustOptionsOf(store)) };
  } catch (err) {
    return { store, error: err as Error };
  }
}

/** The options a store was loaded with, to load its directory again the same way. */
export function trustOptionsOf(store: TrustStore): LoadTrustOptions {
  return { caNamespaces: store.caNamespaces, crlExpired: store.crlExpired };
}
