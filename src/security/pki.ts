/**
 * A small certificate authority: a self-signed CA, host certificates (TLS server and client) and
 * user certificates (client), the shapes grid tools expect.
 */
import { isIP } from "node:net";
import {
  authorityKeyIdExt,
  basicConstraintsExt,
  buildCertificate,
  CertIssueError,
  extKeyUsageExt,
  keyUsageExt,
  subjectAltNameExt,
  subjectKeyIdExt,
} from "./cert-builder.js";
import {
  CertParseError,
  KeyUsageBit,
  OID,
  derToPem,
  parseCertificate,
  pemCertificates,
} from "./cert-info.js";
import { dropLastRdn } from "./dn.js";
import { appendCn, encodeSlashDn } from "./dn-encode.js";
import { DEFAULT_BITS, generateRsaKey, loadPrivateKey, randomSerial, spkiOf } from "./keys.js";

export interface KeyAndCert {
  certPem: string;
  keyPem: string;
}

const DAY_MS = 86_400_000;
/** Back-date new certificates a little so peers with slightly slow clocks accept them. */
const BACKDATE_MS = 5 * 60_000;

export interface CaOptions {
  subject: string;
  days?: number;
  bits?: number;
  now?: Date;
}

export function createCA(opts: CaOptions): KeyAndCert {
  const now = opts.now ?? new Date();
  const key = generateRsaKey(opts.bits ?? DEFAULT_BITS);
  const name = encodeSlashDn(opts.subject);
  const der = buildCertificate(
    {
      serial: randomSerial(),
      issuerDer: name,
      subjectDer: name,
      notBefore: new Date(now.getTime() - BACKDATE_MS),
      notAfter: new Date(now.getTime() + (opts.days ?? 3650) * DAY_MS),
      spkiDer: key.spkiDer,
      extensions: [
        basicConstraintsExt(true),
        keyUsageExt([KeyUsageBit.keyCertSign, KeyUsageBit.cRLSign]),
        subjectKeyIdExt(key.spkiDer),
        authorityKeyIdExt(key.spkiDer),
      ],
    },
    loadPrivateKey(key.privateKeyPem),
  );
  return { certPem: derToPem(der), keyPem: key.privateKeyPem };
}

export interface HostCertOptions {
  host: string;
  ips?: string[];
  days?: number;
  bits?: number;
  /** Defaults to the CA's subject with its last RDN replaced by `CN=<host>`. */
  subject?: string;
  now?: Date;
}

/** A host certificate for TLS servers (and their outgoing connections): serverAuth+clientAuth. */
export function issueHostCert(ca: KeyAndCert, opts: HostCertOptions): KeyAndCert {
  const names = [opts.host, ...(opts.ips ?? [])];
  if (opts.host === "localhost") names.push("127.0.0.1", "::1");
  const sans = [...new Set(names)];
  for (const n of sans) {
    if (isIP(n) === 0 && !/^[A-Za-z0-9*]([A-Za-z0-9.-]*[A-Za-z0-9])?$/.test(n)) {
      throw new CertIssueError(`"${n}" is neither a host name nor an IP address`);
    }
  }
  return issue(ca, {
    subject: opts.subject,
    cn: opts.host,
    days: opts.days,
    bits: opts.bits,
    now: opts.now,
    eku: [OID.ekuServerAuth, OID.ekuClientAuth],
    sans,
  });
}

export interface UserCertOptions {
  subject: string;
  days?: number;
  bits?: number;
  now?: Date;
}

/** A user certificate: clientAuth, the kind grid-proxy-init makes proxies from. */
export function issueUserCert(ca: KeyAndCert, opts: UserCertOptions): KeyAndCert {
  return issue(ca, { ...opts, eku: [OID.ekuClientAuth], sans: [] });
}

interface IssueSpec {
  subject?: string;
  cn?: string;
  days?: number;
  bits?: number;
  now?: Date;
  eku: string[];
  sans: string[];
}

function issue(ca: KeyAndCert, spec: IssueSpec): KeyAndCert {
  const caDer = pemCertificates(ca.certPem)[0];
  if (!caDer) throw new CertParseError("the CA certificate PEM holds no certificate");
  const caInfo = parseCertificate(caDer);
  const caKey = loadPrivateKey(ca.keyPem);
  if (!spkiOf(caKey).equals(caInfo.x509.publicKey.export({ type: "spki", format: "der" }))) {
    throw new CertIssueError("the CA key does not belong to the CA certificate");
  }
  const now = spec.now ?? new Date();
  const subjectDer = spec.subject
    ? encodeSlashDn(spec.subject)
    : appendCn(dropLastRdn(caInfo.subjectDer), spec.cn ?? "");
  const key = generateRsaKey(spec.bits ?? DEFAULT_BITS);
  const wanted = new Date(now.getTime() + (spec.days ?? 365) * DAY_MS);
  const caSpki = caInfo.x509.publicKey.export({ type: "spki", format: "der" });
  const der = buildCertificate(
    {
      serial: randomSerial(),
      issuerDer: caInfo.subjectDer,
      subjectDer,
      notBefore: new Date(now.getTime() - BACKDATE_MS),
      // A certificate outliving its CA would only fail later, further from the cause.
      notAfter: wanted < caInfo.notAfter ? wanted : caInfo.notAfter,
      spkiDer: key.spkiDer,
      extensions: [
        basicConstraintsExt(false),
        keyUsageExt([KeyUsageBit.digitalSignature, KeyUsageBit.keyEncipherment]),
        extKeyUsageExt(spec.eku),
        ...(spec.sans.length > 0 ? [subjectAltNameExt(spec.sans)] : []),
        subjectKeyIdExt(key.spkiDer),
        authorityKeyIdExt(caSpki),
      ],
    },
    caKey,
  );
  return { certPem: derToPem(der), keyPem: key.privateKeyPem };
}
