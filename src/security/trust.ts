/**
 * Trusted CAs and their CRLs, loaded from a grid trust directory (IGTF layout: `<hash>.0` CA
 * certificates, `<hash>.r0` CRLs). A store is immutable: reloading the directory (for fresh CRLs)
 * makes a new store, which also starts a new verification cache.
 */
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { parseCertificate, pemCertificates, type CertInfo } from "./cert-info.js";
import { crlSignedBy, parseCrl, pemCrls, type CrlInfo } from "./crl.js";
import { canonicalName } from "./dn.js";
import type { VerifyCache } from "./verify-cache.js";
import { createVerifyCache } from "./verify-cache.js";

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
  /** Files that were skipped, with why (unreadable, not a certificate, CRL of an unknown CA...). */
  readonly problems: readonly string[];
  readonly dir: string | undefined;
  readonly loadedAt: Date;
  /** Verdicts on chains already seen; private to verifyChain. */
  readonly cache: VerifyCache;
}

export class TrustError extends Error {
  override name = "TrustError";
}

export const nameKey = (nameDer: Buffer): string => canonicalName(nameDer).toString("hex");

export interface TrustSource {
  /** CA certificates as PEM text or DER. */
  cas: { data: string | Buffer; source: string }[];
  /** CRLs as PEM text or DER. */
  crls?: { data: string | Buffer; source: string }[];
  dir?: string;
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
        if (!info.basicConstraints?.ca) {
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
  const crls = new Map<string, TrustedCrl[]>();
  for (const { data, source } of src.crls ?? []) {
    const ders = typeof data === "string" ? pemCrls(data) : [data];
    if (ders.length === 0) problems.push(`${source}: no CRL in the file`);
    for (const der of ders) {
      try {
        const crl = parseCrl(der);
        const k = nameKey(crl.issuerDer);
        const signer = (cas.get(k) ?? []).find((ca) => crlSignedBy(crl, ca.info.x509.publicKey));
        if (!signer) {
          problems.push(`${source}: no trusted CA signed this CRL; ignored`);
          continue;
        }
        const list = crls.get(k) ?? [];
        list.push({ crl, issuerSpkiDer: signer.spkiDer, source });
        crls.set(k, list);
      } catch (err) {
        problems.push(`${source}: not a valid CRL: ${(err as Error).message}`);
      }
    }
  }
  return {
    cas,
    crls,
    problems,
    dir: src.dir,
    loadedAt: new Date(),
    cache: createVerifyCache(),
  };
}

const CA_FILE = /^[0-9a-f]{8}\.\d+$/;
const CRL_FILE = /^[0-9a-f]{8}\.r\d+$/;

/** Load `<hash>.N` CA certificates and `<hash>.rN` CRLs from a trust directory. */
export function loadTrustDir(dir: string): TrustStore {
  let names: string[];
  try {
    if (!statSync(dir).isDirectory()) throw new TrustError(`${dir} is not a directory`);
    names = readdirSync(dir).sort();
  } catch (err) {
    if (err instanceof TrustError) throw err;
    throw new TrustError(`cannot read trust directory ${dir}: ${(err as Error).message}`);
  }
  const read = (n: string) => ({ data: readFileSync(join(dir, n)), source: join(dir, n) });
  const asText = (f: { data: Buffer; source: string }) => {
    const text = f.data.toString("latin1");
    return { data: text.includes("-----BEGIN") ? text : f.data, source: f.source };
  };
  const store = createTrustStore({
    cas: names.filter((n) => CA_FILE.test(n)).map((n) => asText(read(n))),
    crls: names.filter((n) => CRL_FILE.test(n)).map((n) => asText(read(n))),
    dir,
  });
  if (store.cas.size === 0) {
    throw new TrustError(
      `trust directory ${dir} holds no CA certificates (<hash>.0 files)` +
        (store.problems.length ? `: ${store.problems.join("; ")}` : ""),
    );
  }
  return store;
}
