/**
 * Sign an A-REX delegation request: the CE sends a PKCS#10 CSR holding a key it made, and gets
 * back an RFC 3820 proxy of the pilot's credential for that key, followed by the credential's
 * chain (never its private key). Pure apart from the clock, which is a parameter.
 */
import { randomBytes } from "node:crypto";
import forge from "node-forge";
import { buildCertificate, keyUsageExt, proxyCertInfoExt } from "../../../security/cert-builder.js";
import {
  KeyUsageBit,
  OID,
  derToPem,
  parseCertificate,
  pemCertificates,
} from "../../../security/cert-info.js";
import { appendCn } from "../../../security/dn-encode.js";
import { loadPrivateKey, spkiOf } from "../../../security/keys.js";
import { readCredentialFile } from "../../../security/credential-file.js";
import { UpdraftError } from "../../../common/errors.js";

export class DelegationError extends UpdraftError {
  readonly code = "arc-delegation";
  override name = "DelegationError";
}

const BACKDATE_MS = 5 * 60_000;

export interface SignedDelegation {
  /** Proxy certificate then the credential's chain, PEM. */
  pem: string;
  notAfter: Date;
}

/** The CSR's public key as SubjectPublicKeyInfo DER, after checking the CSR's own signature. */
export function csrPublicKey(csrPem: string): Buffer {
  let csr: forge.pki.CertificateSigningRequest;
  try {
    csr = forge.pki.certificationRequestFromPem(csrPem);
  } catch (err) {
    throw new DelegationError(
      `the CE's delegation request is not a PEM CSR: ${(err as Error).message}`,
    );
  }
  if (!csr.verify()) throw new DelegationError("the CE's delegation request has a bad signature");
  if (!csr.publicKey) throw new DelegationError("the CE's delegation request has no public key");
  const asn1 = forge.pki.publicKeyToAsn1(csr.publicKey as forge.pki.rsa.PublicKey);
  return Buffer.from(forge.asn1.toDer(asn1).getBytes(), "binary");
}

export function signDelegation(
  csrPem: string,
  credentialPem: string,
  opts: { hours: number; now: Date },
): SignedDelegation {
  const cred = readCredentialFile(credentialPem);
  if (cred.chainPem.length === 0)
    throw new DelegationError("the pilot credential holds no certificate");
  if (!cred.keyPem) throw new DelegationError("the pilot credential holds no private key");
  const chain = cred.chainPem.flatMap((p) => pemCertificates(p));
  const issuer = parseCertificate(chain[0]!);
  const key = loadPrivateKey(cred.keyPem);
  if (!spkiOf(key).equals(issuer.x509.publicKey.export({ type: "spki", format: "der" }))) {
    throw new DelegationError(`the pilot credential's key does not match ${issuer.subject}`);
  }
  if (issuer.notAfter <= opts.now) {
    throw new DelegationError(
      `the pilot credential ${issuer.subject} expired at ${issuer.notAfter.toISOString()}`,
    );
  }
  const spki = csrPublicKey(csrPem);
  const serial = randomBytes(4);
  serial[0] &= 0x7f;
  const serialNumber = serial.readUInt32BE(0) || 1;
  const wanted = new Date(opts.now.getTime() + opts.hours * 3_600_000);
  const notAfter = wanted < issuer.notAfter ? wanted : issuer.notAfter;
  // A limited credential only ever yields limited proxies.
  const limited = issuer.proxyCertInfo?.policyLanguage === OID.policyLimited;
  const der = buildCertificate(
    {
      serial: Buffer.from(serialNumber.toString(16).padStart(8, "0"), "hex"),
      issuerDer: issuer.subjectDer,
      subjectDer: appendCn(issuer.subjectDer, String(serialNumber)),
      notBefore: new Date(opts.now.getTime() - BACKDATE_MS),
      notAfter,
      spkiDer: spki,
      extensions: [
        proxyCertInfoExt({ policyLanguage: limited ? OID.policyLimited : OID.policyInheritAll }),
        keyUsageExt([KeyUsageBit.digitalSignature, KeyUsageBit.keyEncipherment]),
      ],
    },
    key,
  );
  const pem = [derToPem(der), ...chain.map((c) => derToPem(c))]
    .map((s) => (s.endsWith("\n") ? s : s + "\n"))
    .join("");
  return { pem, notAfter };
}
