/**
 * Chain verification for every server: end-entity certificates and RFC 3820 proxy chains against
 * a trust store. One function, no switches to turn checks off; the only choice is whether limited
 * proxies are acceptable. Verdicts are cached per trust store by the chain's bytes.
 */
import { MAX_CHAIN, parseCertificate, CertParseError, type CertInfo } from "./cert-info.js";
import { chainKey } from "./verify-cache.js";
import { nameKey, type TrustStore, type TrustedCa, type TrustedCrl } from "./trust.js";
import { namesEqual, subjectHash } from "./dn.js";
import {
  checkRoles,
  checkPathLengths,
  checkKeyUsage,
  checkCriticalExtensions,
  checkPilotBinding,
} from "./verify-rules.js";
import { checkStrength } from "./verify-strength.js";
import {
  fail,
  type VerifyFailure,
  type VerifyFailureCode,
  type VerifyResult,
} from "./verify-result.js";

export { VERIFY_FAILURE_CODES } from "./verify-result.js";
export { fail, type VerifyFailure, type VerifyFailureCode, type VerifyResult };

export interface VerifyOptions {
  now?: Date;
  /** Accept limited proxies (job submission and most RPCs must not). Default false. */
  allowLimited?: boolean;
}

/** Failures that hold at any time: worth caching. */
const TIME_DEPENDENT = new Set<VerifyFailureCode>(["expired", "not-yet-valid"]);

/** Verify `chainDer` (leaf first, as the peer presented it) against `trust`. */
export function verifyChain(
  chainDer: readonly Buffer[],
  trust: TrustStore,
  opts: VerifyOptions = {},
): VerifyResult {
  const now = opts.now ?? new Date();
  if (chainDer.length === 0) return fail("empty-chain", "no certificate was presented");
  if (chainDer.length > MAX_CHAIN) {
    return fail(
      "path-length",
      `${chainDer.length} certificates were presented; at most ${MAX_CHAIN} are considered`,
    );
  }
  const key = chainKey(chainDer);
  let verdict = trust.cache.get(key, now) as VerifyResult | undefined;
  if (!verdict) {
    const analysed = analyse(chainDer, trust, now);
    // Shared between callers through the cache: nobody may change it.
    verdict = Object.freeze(analysed.result);
    if (verdict.ok) {
      trust.cache.set(key, {
        verdict,
        validFrom: analysed.validFrom,
        validUntil: analysed.validUntil,
      });
    } else if (!TIME_DEPENDENT.has(verdict.code)) {
      trust.cache.set(key, { verdict, validFrom: -Infinity, validUntil: Infinity });
    }
  }
  if (verdict.ok && verdict.limited && opts.allowLimited !== true) {
    return fail(
      "limited-proxy",
      `${verdict.identity} presented a limited proxy, which is not accepted here`,
    );
  }
  return verdict;
}

interface Analysis {
  result: VerifyResult;
  validFrom: number;
  validUntil: number;
}

function analyse(chainDer: readonly Buffer[], trust: TrustStore, now: Date): Analysis {
  const noWindow = (result: VerifyResult): Analysis => ({ result, validFrom: 0, validUntil: 0 });
  let certs: CertInfo[];
  try {
    certs = chainDer.map((d) => parseCertificate(Buffer.from(d)));
  } catch (err) {
    const msg = err instanceof CertParseError ? err.message : String(err);
    return noWindow(fail("malformed", `a presented certificate could not be parsed: ${msg}`));
  }
  const built = buildPath(certs, trust);
  if ("code" in built) return noWindow(built);
  const { path, anchor } = built;
  const all = [...path, anchor.info];
  for (const c of all) {
    if (now < c.notBefore) {
      return noWindow(
        fail("not-yet-valid", `${c.subject} is not valid before ${c.notBefore.toISOString()}`),
      );
    }
    if (now > c.notAfter) {
      return noWindow(fail("expired", `${c.subject} expired at ${c.notAfter.toISOString()}`));
    }
  }
  const rules = checkCriticalExtensions(path) ?? checkRoles(path, anchor.info);
  if ("code" in rules) return noWindow(rules);
  const later =
    checkStrength(path, anchor.info) ??
    checkPathLengths(path, anchor.info, rules.eeIndex) ??
    checkKeyUsage(path, anchor.info, rules.eeIndex) ??
    checkNamespaces(path, anchor, trust, rules.eeIndex) ??
    checkRevocation(path, anchor, trust, now);
  if (later) return noWindow(later);
  const bound = checkPilotBinding(path, rules.eeIndex);
  if ("code" in bound) return noWindow(bound);
  const validFrom = Math.max(...all.map((c) => c.notBefore.getTime()));
  // A verdict holds while the certificates and, when expired CRLs refuse, the CRLs are current.
  const validUntil = Math.min(
    ...all.map((c) => c.notAfter.getTime()),
    trust.crlExpired === "refuse" ? crlsValidUntil(path, anchor, trust) : Infinity,
  );
  const ee = path[rules.eeIndex];
  return {
    result: {
      ok: true,
      identity: ee.subject,
      limited: rules.limited,
      proxyDepth: rules.eeIndex,
      notAfter: new Date(validUntil),
      ...(bound.binding ? { pilotBinding: bound.binding } : {}),
    },
    validFrom,
    validUntil,
  };
}

const spki = (c: CertInfo) => c.x509.publicKey.export({ type: "spki", format: "der" });

function signedBy(child: CertInfo, issuer: CertInfo): boolean {
  try {
    return child.x509.verify(issuer.x509.publicKey);
  } catch {
    return false;
  }
}

/**
 * From the leaf up: follow presented certificates by issuer name until one is issued by a trusted
 * CA (or is one). Every link's signature is checked on the way.
 */
function buildPath(
  certs: CertInfo[],
  trust: TrustStore,
): { path: CertInfo[]; anchor: TrustedCa } | VerifyFailure {
  const path: CertInfo[] = [certs[0]];
  const unused = certs.slice(1);
  for (;;) {
    const cur = path[path.length - 1];
    const self = (trust.cas.get(nameKey(cur.subjectDer)) ?? []).find((ca) =>
      ca.info.der.equals(cur.der),
    );
    if (self) {
      path.pop();
      if (path.length === 0) {
        return fail("ca-as-client", `${cur.subject} is a CA certificate, not a client certificate`);
      }
      return { path, anchor: self };
    }
    const candidates = trust.cas.get(nameKey(cur.issuerDer)) ?? [];
    const anchor = candidates.find((ca) => signedBy(cur, ca.info));
    if (anchor) return { path, anchor };
    const nextIdx = unused.findIndex((c) => namesEqual(c.subjectDer, cur.issuerDer));
    if (nextIdx >= 0) {
      const next = unused.splice(nextIdx, 1)[0];
      if (!signedBy(cur, next)) {
        return fail(
          "bad-signature",
          `the signature on ${cur.subject} was not made by ${next.subject}'s key`,
        );
      }
      path.push(next);
      continue;
    }
    if (candidates.length > 0) {
      return fail(
        "bad-signature",
        `the signature on ${cur.subject} was not made by the trusted CA ${cur.issuer}`,
      );
    }
    return fail(
      "unknown-issuer",
      `${cur.subject} was issued by ${cur.issuer}, which is not a trusted CA and was not presented`,
    );
  }
}

/**
 * Certificates issued by CAs (end entity and intermediates) against the issuing CA's namespace,
 * as Globus does: proxies are named after their end entity and are not checked.
 */
function checkNamespaces(
  path: CertInfo[],
  anchor: TrustedCa,
  trust: TrustStore,
  eeIndex: number,
): VerifyFailure | undefined {
  if (!trust.namespaces) return undefined;
  for (let i = eeIndex; i < path.length; i++) {
    const issuer = i + 1 < path.length ? path[i + 1] : anchor.info;
    const verdict = trust.namespaces.check(
      { subject: issuer.subject, hash: subjectHash(issuer.subjectDer) },
      path[i].subject,
    );
    if (!verdict.ok) return fail("namespace", verdict.reason);
  }
  return undefined;
}

/** The CRLs that speak for each CA-issued certificate of the path, with its issuer's name. */
function* issuingCrls(
  path: CertInfo[],
  anchor: TrustedCa,
  trust: TrustStore,
): Generator<{ cert: CertInfo; issuer: CertInfo; issuerKey: string; crls: TrustedCrl[] }> {
  const all = [...path, anchor.info];
  for (let i = 0; i < path.length; i++) {
    const cert = path[i];
    if (cert.proxyCertInfo) continue;
    const issuer = all[i + 1];
    const issuerSpki = issuer === anchor.info ? anchor.spkiDer : spki(issuer);
    const issuerKey = nameKey(issuer.subjectDer);
    const crls = (trust.crls.get(issuerKey) ?? []).filter((t) =>
      t.issuerSpkiDer.equals(issuerSpki),
    );
    yield { cert, issuer, issuerKey, crls };
  }
}

/**
 * Certificates issued by CAs (end entity and intermediates) against the issuing CA's CRLs. A CA
 * whose CRL is broken or missing signs nothing; an expired CRL refuses unless the store says warn.
 */
function checkRevocation(
  path: CertInfo[],
  anchor: TrustedCa,
  trust: TrustStore,
  now: Date,
): VerifyFailure | undefined {
  for (const { cert, issuer, issuerKey, crls } of issuingCrls(path, anchor, trust)) {
    const broken = trust.crlFailures.get(issuerKey);
    if (broken) {
      return fail(
        "crl-invalid",
        `${issuer.subject}, issuer of ${cert.subject}, signs nothing: ${broken}`,
      );
    }
    for (const t of crls) {
      const next = t.crl.nextUpdate;
      if (trust.crlExpired === "refuse" && next && next < now) {
        return fail(
          "crl-expired",
          `the CRL of ${issuer.subject} (${t.source}) expired at ${next.toISOString()}; ` +
            "run fetch-crl, or set tls.crl_expired: warn",
        );
      }
      const when = t.crl.revoked.get(cert.serialHex);
      if (when) {
        return fail(
          "revoked",
          `${cert.subject} (serial ${cert.serialHex}) was revoked by ${issuer.subject} at ${when.toISOString()}`,
        );
      }
    }
  }
  return undefined;
}

/** The earliest nextUpdate of the CRLs a verdict relied on. */
function crlsValidUntil(path: CertInfo[], anchor: TrustedCa, trust: TrustStore): number {
  let until = Infinity;
  for (const { crls } of issuingCrls(path, anchor, trust)) {
    for (const t of crls) until = Math.min(until, t.crl.nextUpdate?.getTime() ?? Infinity);
  }
  return until;
}
