/**
 * The on-disk CA behind `updraft ca`: `ca.pem`, `ca-key.pem` (0600), `crl.pem`, and a grid trust
 * directory `certificates/` holding `<hash>.0`, `<hash>.r0` and `<hash>.signing_policy`.
 */
import { chmodSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { derToPem, parseCertificate, pemCertificates, type CertInfo } from "./cert-info.js";
import { buildCrl, parseCrl, pemCrls, type RevokedEntry } from "./crl.js";
import { dropLastRdn, formatSlashDn, rdnCount, subjectHash } from "./dn.js";
import { loadPrivateKey } from "./keys.js";
import { createCA, type KeyAndCert } from "./pki.js";
import { UpdraftError } from "../common/errors.js";
import {
  MAX_CREDENTIAL_FILE_BYTES,
  MAX_INPUT_FILE_BYTES,
  readBoundedText,
} from "../common/bounded-read.js";

export const CRL_DAYS = 30;

export interface CaPaths {
  dir: string;
  cert: string;
  key: string;
  crl: string;
  trustDir: string;
  hashed: string;
  hashedCrl: string;
  signingPolicy: string;
}

export class CaDirError extends UpdraftError {
  readonly code = "ca-dir";
  override name = "CaDirError";
}

/** Write a file only its owner can read, even when it already existed with a wider mode. */
export function writePrivateFile(path: string, data: string): void {
  writeFileSync(path, data, { mode: 0o600 });
  chmodSync(path, 0o600);
}

export function caPaths(dir: string, caCertPem?: string): CaPaths {
  const cert = join(dir, "ca.pem");
  const pem = caCertPem ?? readBoundedText(cert, MAX_CREDENTIAL_FILE_BYTES);
  const der = pemCertificates(pem)[0];
  if (!der) throw new CaDirError(`${cert}: no certificate found`);
  const hash = subjectHash(parseCertificate(der).subjectDer);
  const trustDir = join(dir, "certificates");
  return {
    dir,
    cert,
    key: join(dir, "ca-key.pem"),
    crl: join(dir, "crl.pem"),
    trustDir,
    hashed: join(trustDir, `${hash}.0`),
    hashedCrl: join(trustDir, `${hash}.r0`),
    signingPolicy: join(trustDir, `${hash}.signing_policy`),
  };
}

/** The Globus signing policy: this CA signs names under its own subject's parent. */
export function signingPolicy(ca: CertInfo): string {
  const parent = rdnCount(ca.subjectDer) > 1 ? formatSlashDn(dropLastRdn(ca.subjectDer)) : "";
  return [
    `access_id_CA   X509   '${ca.subject}'`,
    `pos_rights     globus CA:sign`,
    `cond_subjects  globus '"${parent}/*"'`,
    "",
  ].join("\n");
}

export interface InitOptions {
  subject: string;
  days?: number;
  bits?: number;
  /** Refuse to overwrite an existing CA unless set. */
  force?: boolean;
}

export function initCaDir(dir: string, opts: InitOptions): { ca: KeyAndCert; paths: CaPaths } {
  if (!opts.force && existsSync(join(dir, "ca-key.pem"))) {
    throw new CaDirError(`${join(dir, "ca-key.pem")} already exists; refusing to replace the CA`);
  }
  const ca = createCA({ subject: opts.subject, days: opts.days, bits: opts.bits });
  const paths = caPaths(dir, ca.certPem);
  mkdirSync(paths.trustDir, { recursive: true, mode: 0o755 });
  writePrivateFile(paths.key, ca.keyPem);
  writeFileSync(paths.cert, ca.certPem);
  writeFileSync(paths.hashed, ca.certPem);
  writeFileSync(
    paths.signingPolicy,
    signingPolicy(parseCertificate(pemCertificates(ca.certPem)[0])),
  );
  writeCrl(ca, paths, [], 1);
  return { ca, paths };
}

export function loadCaDir(dir: string): { ca: KeyAndCert; paths: CaPaths } {
  const cert = join(dir, "ca.pem");
  const key = join(dir, "ca-key.pem");
  for (const f of [cert, key]) {
    if (!existsSync(f))
      throw new CaDirError(`${f} does not exist (run "updraft ca init --dir ${dir}" first)`);
  }
  const ca = {
    certPem: readBoundedText(cert, MAX_CREDENTIAL_FILE_BYTES),
    keyPem: readBoundedText(key, MAX_CREDENTIAL_FILE_BYTES),
  };
  return { ca, paths: caPaths(dir, ca.certPem) };
}

function writeCrl(
  ca: KeyAndCert,
  paths: CaPaths,
  revoked: RevokedEntry[],
  crlNumber: number,
): void {
  const info = parseCertificate(pemCertificates(ca.certPem)[0]);
  const now = new Date();
  const der = buildCrl(
    {
      issuerDer: info.subjectDer,
      issuerSpkiDer: info.x509.publicKey.export({ type: "spki", format: "der" }),
      revoked,
      crlNumber,
      thisUpdate: new Date(now.getTime() - 60_000),
      nextUpdate: new Date(now.getTime() + CRL_DAYS * 86_400_000),
    },
    loadPrivateKey(ca.keyPem),
  );
  const pem = derToPem(der, "X509 CRL");
  writeFileSync(paths.crl, pem);
  writeFileSync(paths.hashedCrl, pem);
}

/** Add the certificate to the CA's CRL (idempotent) and rewrite `crl.pem` and `<hash>.r0`. */
export function revokeInCaDir(dir: string, certPem: string, source = "certificate"): CertInfo {
  const { ca, paths } = loadCaDir(dir);
  const der = pemCertificates(certPem)[0];
  if (!der) throw new CaDirError(`${source}: no certificate found`);
  const cert = parseCertificate(der);
  const caInfo = parseCertificate(pemCertificates(ca.certPem)[0]);
  if (!cert.x509.verify(caInfo.x509.publicKey)) {
    throw new CaDirError(
      `${source}: ${cert.subject} was not issued by this CA (${caInfo.subject})`,
    );
  }
  const current = readCurrentCrl(paths);
  const revoked = current.revoked;
  if (!revoked.some((r) => r.serialHex === cert.serialHex)) {
    revoked.push({ serialHex: cert.serialHex, date: new Date() });
  }
  writeCrl(ca, paths, revoked, current.nextNumber);
  return cert;
}

/** The CA's current CRL: its revoked entries, when it stops being valid, the next CRL number. */
function readCurrentCrl(paths: CaPaths): {
  revoked: RevokedEntry[];
  nextUpdate: Date | undefined;
  nextNumber: number;
} {
  if (!existsSync(paths.crl)) return { revoked: [], nextUpdate: undefined, nextNumber: 1 };
  const current = parseCrl(pemCrls(readBoundedText(paths.crl, MAX_INPUT_FILE_BYTES))[0]);
  return {
    revoked: [...current.revoked].map(([serialHex, date]) => ({ serialHex, date })),
    nextUpdate: current.nextUpdate,
    nextNumber: (current.crlNumber ?? 0) + 1,
  };
}

/**
 * Re-sign the CA's CRL with the same revocations when it has less than `renewBelowMs` left (or
 * none), as fetch-crl keeps a site's CRLs current: servers refuse every chain of a CA whose CRL
 * has expired. Returns whether a new CRL was written.
 */
export function refreshCrlInCaDir(dir: string, renewBelowMs: number, now = Date.now()): boolean {
  const { ca, paths } = loadCaDir(dir);
  const current = readCurrentCrl(paths);
  if (current.nextUpdate && current.nextUpdate.getTime() - now > renewBelowMs) return false;
  writeCrl(ca, paths, current.revoked, current.nextNumber);
  return true;
}
