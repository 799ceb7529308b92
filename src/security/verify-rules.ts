/**
 * The rules a built path must pass, each a small function returning a failure or nothing. The
 * path is leaf first and stops below the trust anchor; `eeIndex` is the end-entity certificate's
 * position (everything before it is a proxy).
 */
import { KeyUsageBit, OID, UNDERSTOOD_CRITICAL, isSelfIssued, type CertInfo } from "./cert-info.js";
import { dropLastRdn, lastCn, namesEqual, rdnCount } from "./dn.js";
import { fail, type VerifyFailure } from "./verify-result.js";
import { parsePilotBinding, type PilotBinding } from "./pilot-binding.js";

export function checkCriticalExtensions(path: CertInfo[]): VerifyFailure | undefined {
  for (const c of path) {
    const unknown = c.extensions.find((e) => e.critical && !UNDERSTOOD_CRITICAL.has(e.oid));
    if (unknown) {
      return fail(
        "critical-extension",
        `${c.subject} has a critical extension ${unknown.oid} that is not understood`,
      );
    }
  }
  return undefined;
}

export interface Roles {
  eeIndex: number;
  limited: boolean;
}

const LEGACY_CNS = new Set(["proxy", "limited proxy"]);

/** Walk from the anchor down: CAs, then exactly one end entity, then RFC 3820 proxies. */
export function checkRoles(path: CertInfo[], anchor: CertInfo): Roles | VerifyFailure {
  let eeIndex = -1;
  let limited = false;
  for (let j = path.length - 1; j >= 0; j--) {
    const c = path[j];
    const parent = j + 1 < path.length ? path[j + 1] : anchor;
    if (eeIndex < 0) {
      if (c.basicConstraints?.ca) {
        if (j === 0)
          return fail("ca-as-client", `${c.subject} is a CA certificate, not a client certificate`);
        continue;
      }
      if (c.proxyCertInfo || c.hasDraftProxyCertInfo) {
        return fail(
          "bad-proxy",
          `${c.subject} claims to be a proxy but was issued directly by the CA ${parent.subject}`,
        );
      }
      eeIndex = j;
      continue;
    }
    const failure = checkProxy(c, parent);
    if (failure) return failure;
    if (c.proxyCertInfo?.policyLanguage === OID.policyLimited) limited = true;
  }
  if (eeIndex < 0) return fail("ca-as-client", "the chain holds only CA certificates");
  return { eeIndex, limited };
}

/** One certificate issued by an end entity or a proxy: it must be a well-formed RFC 3820 proxy. */
function checkProxy(c: CertInfo, parent: CertInfo): VerifyFailure | undefined {
  if (c.basicConstraints?.ca) {
    return fail(
      "bad-proxy",
      `${c.subject} claims to be a CA but was issued by the non-CA ${parent.subject}`,
    );
  }
  const cn = lastCn(c.subjectDer);
  const extendsParent =
    namesEqual(dropLastRdn(c.subjectDer), parent.subjectDer) &&
    rdnCount(c.subjectDer) === rdnCount(parent.subjectDer) + 1;
  if (c.hasDraftProxyCertInfo && !c.proxyCertInfo) {
    return fail(
      "legacy-proxy",
      `${c.subject} is a pre-RFC (draft) proxy; only RFC 3820 proxies are accepted`,
    );
  }
  if (!c.proxyCertInfo) {
    if (cn !== undefined && LEGACY_CNS.has(cn) && extendsParent) {
      return fail(
        "legacy-proxy",
        `${c.subject} is a legacy Globus proxy; only RFC 3820 proxies are accepted`,
      );
    }
    return fail(
      "proxy-info-missing",
      `${c.subject} was issued by the end entity ${parent.subject} but has no ProxyCertInfo extension`,
    );
  }
  if (!c.proxyCertInfo.critical) {
    return fail(
      "proxy-info-missing",
      `${c.subject} has a ProxyCertInfo extension that is not marked critical`,
    );
  }
  if (cn === undefined || !extendsParent) {
    return fail(
      "bad-proxy-subject",
      `proxy subject ${c.subject} is not its issuer's subject ${parent.subject} plus one CN`,
    );
  }
  if (c.extensions.some((e) => e.oid === OID.subjectAltName)) {
    return fail("bad-proxy", `proxy ${c.subject} carries a subjectAltName, which RFC 3820 forbids`);
  }
  const lang = c.proxyCertInfo.policyLanguage;
  if (lang === OID.policyIndependent) {
    return fail(
      "proxy-policy",
      `proxy ${c.subject} is an independent proxy, which carries no rights of ${parent.subject}`,
    );
  }
  if (
    lang !== OID.policyInheritAll &&
    lang !== OID.policyLimited &&
    lang !== OID.policyPilotBinding
  ) {
    return fail("proxy-policy", `proxy ${c.subject} has an unknown policy language ${lang}`);
  }
  return undefined;
}

/** CA basicConstraints pathLenConstraint and proxy pCPathLenConstraint. */
export function checkPathLengths(
  path: CertInfo[],
  anchor: CertInfo,
  eeIndex: number,
): VerifyFailure | undefined {
  for (let j = 0; j < eeIndex; j++) {
    const limit = path[j].proxyCertInfo?.pathLen;
    // j proxies were issued below path[j].
    if (limit !== undefined && j > limit) {
      return fail(
        "path-length",
        `proxy ${path[j].subject} allows ${limit} further proxies, but ${j} follow it`,
      );
    }
  }
  const all = [...path, anchor];
  for (let k = eeIndex + 1; k < all.length; k++) {
    const limit = all[k].basicConstraints?.pathLen;
    if (limit === undefined) continue;
    // Intermediate CAs between this CA and the end entity; self-issued ones do not count.
    let below = 0;
    for (let m = eeIndex + 1; m < k; m++) if (!isSelfIssued(all[m])) below++;
    if (below > limit) {
      return fail(
        "path-length",
        `CA ${all[k].subject} allows ${limit} intermediate CAs below it, but ${below} follow it`,
      );
    }
  }
  return undefined;
}

/** Issuers must be allowed to sign; the end entity and proxies must be usable for client auth. */
export function checkKeyUsage(
  path: CertInfo[],
  anchor: CertInfo,
  eeIndex: number,
): VerifyFailure | undefined {
  const all = [...path, anchor];
  for (let k = eeIndex + 1; k < all.length; k++) {
    const ku = all[k].keyUsage;
    if (ku && !ku.has(KeyUsageBit.keyCertSign)) {
      return fail("key-usage", `CA ${all[k].subject} has a keyUsage without keyCertSign`);
    }
  }
  for (let j = 0; j <= eeIndex; j++) {
    const c = path[j];
    const ku = c.keyUsage;
    if (ku && !ku.has(KeyUsageBit.digitalSignature)) {
      const why =
        j === 0 ? "cannot sign for client authentication" : "cannot sign the proxy below it";
      return fail("key-usage", `${c.subject} has a keyUsage without digitalSignature: it ${why}`);
    }
    const eku = c.extKeyUsage;
    if (eku && !eku.includes(OID.ekuClientAuth) && !eku.includes(OID.ekuAny)) {
      return fail("key-usage", `${c.subject} has an extendedKeyUsage without clientAuth`);
    }
  }
  return undefined;
}

/** Longest pilot-binding policy read from a proxy: a binding is a few hundred bytes. */
const MAX_BINDING_POLICY_BYTES = 8192;

/**
 * The pilot binding a proxy chain carries (its first proxy, from the end entity down, whose
 * policy language is the pilot binding's), or undefined when none does. Every proxy below that
 * one must carry the very same policy: a binding only narrows what a credential is for, so
 * whoever holds a bound proxy can neither drop nor change it by signing another proxy from it.
 */
export function checkPilotBinding(
  path: CertInfo[],
  eeIndex: number,
): { binding: PilotBinding | undefined } | VerifyFailure {
  let bound: { policy: Buffer; binding: PilotBinding } | undefined;
  for (let j = eeIndex - 1; j >= 0; j--) {
    const c = path[j];
    const pci = c.proxyCertInfo;
    const isBound = pci?.policyLanguage === OID.policyPilotBinding;
    if (bound !== undefined) {
      if (!isBound || pci.policy === undefined || !pci.policy.equals(bound.policy)) {
        return fail(
          "proxy-policy",
          `proxy ${c.subject} does not carry the pilot binding of the proxy that issued it`,
        );
      }
      continue;
    }
    if (!isBound) continue;
    const policy = pci.policy;
    if (policy === undefined || policy.length > MAX_BINDING_POLICY_BYTES) {
      return fail(
        "proxy-policy",
        `proxy ${c.subject} has a pilot binding policy without a binding or past ${MAX_BINDING_POLICY_BYTES} bytes`,
      );
    }
    let claim: unknown;
    try {
      claim = JSON.parse(policy.toString("utf8"));
    } catch {
      return fail("proxy-policy", `proxy ${c.subject} has a pilot binding that is not JSON`);
    }
    const binding = parsePilotBinding(claim);
    if ("error" in binding) return fail("proxy-policy", `proxy ${c.subject}: ${binding.error}`);
    bound = { policy, binding };
  }
  return { binding: bound?.binding };
}
