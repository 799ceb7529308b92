/**
 * A job's own proxy (`x509userproxy`), as the schedd receives it with the job's inputs: its chain
 * is checked against the schedd's trust directory (limited proxies allowed, as for any job
 * credential), and the attributes HTCondor's schedd writes from the file it reads are set from
 * it: `x509userproxysubject` (the identity the proxy stands for), `x509UserProxyExpiration`,
 * `x509UserProxyEmail` when the subject carries one, and for a VOMS proxy `x509UserProxyVOName`,
 * `x509UserProxyFirstFQAN` and `x509UserProxyFQAN` (see security/voms.ts). These are secure
 * attributes: a client's own values are dropped at submit, so only a proxy that verified speaks.
 */
import { existsSync } from "node:fs";
import { JOB } from "../ads/names.js";
import { readBounded } from "../common/bounded-read.js";
import { chainNotAfter, pemCertificates } from "../security/cert-info.js";
import {
  loadTrustDir,
  refreshTrustStoreAsync,
  type LoadTrustOptions,
  type TrustStore,
} from "../security/trust.js";
import { verifyChain } from "../security/verify.js";
import { dnAndFqans, vomsAttributes } from "../security/voms.js";
import type { VerifyFailureCode, VerifyResult } from "../security/verify-result.js";
import { quote } from "./job-status.js";

/** More than any proxy file (three certificates and a key): larger files are not read. */
export const MAX_PROXY_BYTES = 64 * 1024;

export type ChainCheck = (chainDer: Buffer[]) => VerifyResult;

/** A refused proxy's reason; `code` is the chain check's when the chain itself was refused. */
export type ProxyAttrs =
  { ok: true; attrs: [string, string][] } | { ok: false; reason: string; code?: VerifyFailureCode };

/** The secure proxy attributes of the PEM text of a proxy file, or why it is refused. Pure. */
export function jobProxyAttrs(pem: string, check: ChainCheck): ProxyAttrs {
  let chain: Buffer[];
  try {
    chain = pemCertificates(pem);
  } catch (err) {
    return { ok: false, reason: `not a PEM proxy file (${(err as Error).message})` };
  }
  if (chain.length === 0) return { ok: false, reason: "no PEM certificate in it" };
  const verdict = check(chain);
  if (!verdict.ok) {
    return { ok: false, reason: `${verdict.code}: ${verdict.reason}`, code: verdict.code };
  }
  // The chain is only as good as its first certificate to expire.
  const expires = Math.min(verdict.notAfter.getTime(), chainNotAfter(chain)!.getTime());
  const attrs: [string, string][] = [
    [JOB.X509UserProxySubject, quote(verdict.identity)],
    [JOB.X509UserProxyExpiration, String(Math.floor(expires / 1000))],
  ];
  const email = /\/emailAddress=([^/]+)/i.exec(verdict.identity)?.[1];
  if (email !== undefined) attrs.push([JOB.X509UserProxyEmail, quote(email)]);
  const voms = vomsAttributes(chain);
  if (voms !== undefined) {
    attrs.push([JOB.X509UserProxyVOName, quote(voms.vo)]);
    attrs.push([JOB.X509UserProxyFirstFQAN, quote(voms.fqans[0]!)]);
    attrs.push([JOB.X509UserProxyFQAN, quote(dnAndFqans(verdict.identity, voms.fqans))]);
  }
  return { ok: true, attrs };
}

/** Trust directory re-read at most this often for job proxies (new CRLs, CAs). */
const RECHECK_MS = 60_000;

/** A chain check that also says when its trust directory reload is under way. */
export interface TrustDirCheck extends ChainCheck {
  /** The reload under way, if any: checks meanwhile use the trust loaded before. */
  reloading(): Promise<void> | undefined;
}

/**
 * A chain check against `trustDir`, loaded on first use and refreshed when its files change, with
 * the schedd's `tls` modes (CA namespaces, expired CRLs) as its listener has them. The refresh
 * reads the directory off the event loop, as the listener's does: the upload that finds the
 * store due for a recheck is checked against the one loaded, and the next against the new one.
 */
export function trustDirCheck(
  trustDir: string,
  options: LoadTrustOptions,
  now: () => number = Date.now,
): TrustDirCheck {
  let trust: TrustStore | undefined;
  let checkedAt = 0;
  let pending: Promise<void> | undefined;
  const check = (chain: Buffer[]): VerifyResult => {
    if (trust === undefined) {
      trust = loadTrustDir(trustDir, options);
      checkedAt = now();
    } else if (!pending && now() - checkedAt >= RECHECK_MS) {
      checkedAt = now();
      // An unreadable directory keeps the trust loaded before, as the listener does.
      pending = refreshTrustStoreAsync(trust).then((r) => {
        trust = r.store;
        pending = undefined;
      });
    }
    return verifyChain(chain, trust, { allowLimited: true, now: new Date(now()) });
  };
  return Object.assign(check, { reloading: () => pending });
}

/** A received proxy file's text, read with a bound; undefined when missing or too large. */
export function readProxyFile(path: string): string | undefined {
  if (!existsSync(path)) return undefined;
  return readBounded(path, MAX_PROXY_BYTES)?.toString("latin1");
}
